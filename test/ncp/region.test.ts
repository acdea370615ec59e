/**
 * Tests for NCP region codes: the IAM stage and the NKS API prefix
 * (docs/formats.md §2). Expected values are written by hand from that page's rules.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ncpApiPrefix, ncpRegionForApiPrefix, ncpStage, normalizeNcpRegion, unknownNcpRegionWarning } from "../../src/ncp/region.js";
import { ErrorCode, InvalidInputError } from "../../src/lib/errors.js";

test("ncpStage: the docs/formats.md §2 stage rules", () => {
  const table: [string, string][] = [
    ["", "v1"], // empty → v1
    ["KR", "v1"],
    ["kr", "v1"], // upper-cased first
    ["SGN", "sgn-v1"],
    ["sgn", "sgn-v1"],
    ["JPN", "jpn-v1"],
    ["KRS", "krs-v1"], // its own region, not KR
    ["FKR", "v1"], // starts with F: finance
    ["FCS01", "v1"],
    ["PCS01", "v1"], // contains CS: cloud stack
    ["GCS01", "v1"],
    ["gcs01", "v1"],
    ["USWN", "uswn-v1"], // not a region we know: lower-case R + -v1
    ["XY9", "xy9-v1"],
  ];
  for (const [region, stage] of table) assert.equal(ncpStage(region), stage, `region ${JSON.stringify(region)}`);
});

test("ncpApiPrefix: the docs/formats.md §2 prefix rules", () => {
  const table: [string, string][] = [
    ["KR", "/vnks/v2"],
    ["kr", "/vnks/v2"],
    ["", "/vnks/v2"], // empty means the default region, KR (docs/formats.md §2)
    ["FKR", "/nks/v2"], // F… first, so FCS01 is finance too
    ["FCS01", "/nks/v2"],
    ["PCS01", "/vnks/v2"],
    ["GCS01", "/vnks/v2"],
    ["SGN", "/vnks/sgn-v2"],
    ["JPN", "/vnks/jpn-v2"],
    ["KRS", "/vnks/krs-v2"],
    ["krs", "/vnks/krs-v2"],
    ["USWN", "/vnks/uswn-v2"],
  ];
  for (const [region, prefix] of table) assert.equal(ncpApiPrefix(region), prefix, `region ${JSON.stringify(region)}`);
});

test("normalizeNcpRegion: upper-cases letters and digits, keeps the empty default", () => {
  assert.equal(normalizeNcpRegion("sgn"), "SGN");
  assert.equal(normalizeNcpRegion("Pcs01"), "PCS01");
  assert.equal(normalizeNcpRegion(""), "");
});

test("normalizeNcpRegion, ncpStage and ncpApiPrefix refuse a region that is not letters and digits", () => {
  const bad = ["K R", "KR;", "kr/1", " KR", "KR\n", "KR-1", "../KR", "KR?x=1", "ＫＲ", "KR\u0000"];
  for (const region of bad) {
    for (const fn of [normalizeNcpRegion, ncpStage, ncpApiPrefix]) {
      assert.throws(
        () => fn(region),
        (e: unknown) => {
          assert.ok(e instanceof InvalidInputError, `${fn.name}(${JSON.stringify(region)}) threw ${String(e)}`);
          assert.equal(e.code, ErrorCode.INVALID_INPUT);
          assert.equal(e.code, "ERR_INVALID_INPUT");
          assert.equal(e.field, "region");
          assert.match(e.message, /letters and digits/);
          assert.ok(e.message.includes(JSON.stringify(region)), e.message);
          return true;
        },
      );
    }
  }
});

test("ncpRegionForApiPrefix: the region a prefix serves by default, the inverse of the docs/formats.md §2 prefix rules", () => {
  const table: [string, string | undefined][] = [
    ["/vnks/v2", "KR"],
    ["/nks/v2", "FKR"],
    ["/vnks/sgn-v2", "SGN"],
    ["/vnks/jpn-v2", "JPN"],
    ["/vnks/krs-v2", "KRS"], // its own region, not KR
    ["/vnks/uswn-v2", "USWN"],
    ["/vnks/fkr-v2", undefined], // FKR is served under /nks/v2
    ["/vnks/pcs01-v2", undefined], // …CS… regions use /vnks/v2
    ["/nks/sgn-v2", undefined],
    ["/vnks/kr-v2", undefined],
    ["/vnks/SGN-v2", undefined],
    ["/vnks/v1", undefined],
    ["/vnks/sgn-v2/clusters", undefined],
    ["", undefined],
  ];
  for (const [prefix, region] of table) assert.equal(ncpRegionForApiPrefix(prefix), region, `prefix ${JSON.stringify(prefix)}`);
  // And it is the inverse: every region it names maps back to the same prefix.
  for (const region of ["KR", "FKR", "SGN", "JPN", "KRS"]) assert.equal(ncpRegionForApiPrefix(ncpApiPrefix(region)), region);
});

test("unknownNcpRegionWarning: quiet for the regions NCP documents NKS in, a warning for USWN and DEN (Classic only, no NKS) and for typos", () => {
  // KR, SGN, JPN: api.ncloud-docs.com; KRS: api-gov.ncloud-docs.com; FKR, FKRS: the official tool's F… rule; cloud-stack by form.
  for (const region of ["", "KR", "kr", "KRS", "SGN", "JPN", "FKR", "FKRS", "PCS01", "GCS01", "FCS01"]) {
    assert.equal(unknownNcpRegionWarning(region), undefined, region);
  }
  assert.equal(
    unknownNcpRegionWarning("USWN"),
    "region USWN is not one kubeiam knows (KR, KRS, SGN, JPN, FKR, FKRS, or a cloud-stack region such as PCS01): using IAM stage uswn-v1 and API prefix /vnks/uswn-v2; check --region if that is not the cluster's region",
  );
  assert.match(unknownNcpRegionWarning("den") ?? "", /^region DEN is not one kubeiam knows .*: using IAM stage den-v1 and API prefix \/vnks\/den-v2;/);
  assert.match(unknownNcpRegionWarning("KRX") ?? "", /^region KRX is not one kubeiam knows/);
});
