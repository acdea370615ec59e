/**
 * The console's HTML tag: every value escaped (text and attributes), markup made by the tag kept,
 * arrays joined, nothing for null, undefined and false. Expected strings written out by hand.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Html, escapeHtml, html, trustedHtml } from "../../../src/broker/console/html.js";

test("escapeHtml: the five characters that end text or a quoted attribute", () => {
  const cases: [string, string][] = [
    ["plain", "plain"],
    ["<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"],
    [`"><img src=x onerror=alert(1)>`, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"],
    ["it's & that", "it&#39;s &amp; that"],
    ["&amp;", "&amp;amp;"],
    ["", ""],
  ];
  for (const [input, want] of cases) assert.equal(escapeHtml(input), want, input);
});

test("html: values are escaped in text and attributes; Html from the tag is kept; lists are joined", () => {
  const name = `<b onclick="x">`;
  assert.equal(html`<td title="${name}">${name}</td>`.toString(), `<td title="&lt;b onclick=&quot;x&quot;&gt;">&lt;b onclick=&quot;x&quot;&gt;</td>`);
  assert.equal(html`<ul>${["a<", "b&"].map((n) => html`<li>${n}</li>`)}</ul>`.toString(), "<ul><li>a&lt;</li><li>b&amp;</li></ul>");
  assert.equal(html`${null}${undefined}${false}|${0}|${true}`.toString(), "|0|true");
  assert.equal(html`${trustedHtml("<!doctype html>")}`.toString(), "<!doctype html>");
  assert.ok(html`x` instanceof Html);
});

test("html: a string that looks like markup is still text, even nested in a list", () => {
  const nested = html`${[["<i>", html`<i>ok</i>`]]}`;
  assert.equal(nested.toString(), "&lt;i&gt;<i>ok</i>");
});
