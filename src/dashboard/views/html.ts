/**
 * HTML built from tagged templates that escape every interpolated value. Job data, file
 * names, titles and Zoho's error messages are untrusted: the only way to put markup into a
 * page is {@link html}, so nothing reaches a page unescaped by accident.
 */

/** What a template may interpolate. `null`, `undefined` and `false` render nothing, so `cond && html`…`` works. */
export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an element's content or a quoted attribute value. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/** Markup that is safe to send: only {@link html} makes it (the constructor is private on purpose). */
export class SafeHtml {
  private constructor(private readonly markup: string) {}

  /** The template tag behind {@link html}. */
  static fromTemplate(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
    let markup = strings[0] as string;
    values.forEach((value, i) => {
      markup += renderValue(value) + (strings[i + 1] as string);
    });
    return new SafeHtml(markup);
  }

  toString(): string {
    return this.markup;
  }
}

/** The template tag: the literal parts are trusted markup, every value is escaped (arrays are joined). */
export const html = (strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml =>
  SafeHtml.fromTemplate(strings, ...values);

function renderValue(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.toString();
  if (typeof value === 'string' || typeof value === 'number') return escapeHtml(String(value));
  return value.map(renderValue).join('');
}
