/**
 * HTML escaping for the server-rendered pages: `html` is a tagged template whose interpolated values are escaped
 * unless they are already `SafeHtml` (the result of another `html` or of `raw`, which is for markup this server
 * wrote itself, e.g. oidc-provider's logout form). Arrays are joined. Nothing a person or an application sent ever
 * reaches a page unescaped.
 *
 * @example
 *   html`<p>${userInput}</p>`.value // '<p>&lt;script&gt;…</p>'
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map((v: HtmlValue) => render(v)).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** Markup this server produced itself, taken as it is. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
