/**
 * The sign-in page: a field labelled "Broker token" and a "Sign in" button, and, when the broker
 * signs people in through an identity provider, a button that goes there.
 */
import { html, type Html } from "../html.js";
import { consolePage, csrfField, type PageFrame } from "../layout.js";

/** What the sign-in page shows. */
export interface SignInView {
  /** Where the identity provider's sign-in starts, when OIDC is configured. */
  identityProviderHref?: string;
}

/**
 * The sign-in page.
 *
 * @example
 * ```ts
 * signInPage({ assets, csrf }, { identityProviderHref: "/console/sign-in/idp" });
 * ```
 */
export function signInPage(frame: PageFrame, view: SignInView): Html {
  const idp =
    view.identityProviderHref === undefined
      ? html``
      : html`<p class="or">or</p>
<p><a class="button secondary" href="${view.identityProviderHref}" target="_blank" rel="noopener">Sign in with the identity provider</a></p>
<p class="hint">It opens in a new tab. When the identity provider's page says you are signed in, come back to this tab and <a href="/">continue</a>.</p>`;
  return consolePage(
    frame,
    { title: "Sign in", section: "sign-in" },
    html`<div class="signin">
<form class="stack" method="post" action="/console/sign-in">
${csrfField(frame.csrf)}
<div class="field">
<label for="token">Broker token</label>
<input id="token" name="token" type="password" autocomplete="current-password" spellcheck="false" required aria-describedby="token-hint">
<span id="token-hint" class="hint">Your personal kbi_… token, from an admin ('kubeiam broker user add').</span>
</div>
<div><button type="submit">Sign in</button></div>
</form>
${idp}
</div>`,
  );
}
