/** HTML building with escaping by default: every interpolated value is escaped unless it is already SafeHtml. */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Recorded keys and values are arbitrary bytes: make control characters and lone surrogates visible. */
export function printable(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
        continue;
      }
    }
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) {
      out += '\\x' + code.toString(16).padStart(2, '0');
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += '\\u' + code.toString(16);
    } else if (code === 0x2028 || code === 0x2029 || code === 0xfeff) {
      out += '\\u' + code.toString(16);
    } else {
      out += text[i]!;
    }
  }
  return out;
}

/** Multi-line text (config files): keeps newlines and tabs, makes other control characters visible. */
export function printableText(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => line.split('\t').map(printable).join('\t'))
    .join('\n');
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: interpolations are escaped; nest html`` results or arrays of them freely. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

/** JSON safe to place inside a <script type="application/json"> element. */
export function inlineJson(data: unknown): SafeHtml {
  const text = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return new SafeHtml(text);
}

/** Inline script text must never contain a closing script tag. */
export function inlineScript(code: string): SafeHtml {
  return new SafeHtml(code.replace(/<\/(script)/gi, '<\\/$1'));
}

export function inlineStyle(css: string): SafeHtml {
  return new SafeHtml(css.replace(/<\/(style)/gi, '<\\/$1'));
}

/** Display text for a recorded value (string, number, object) in one line. */
export function shownValue(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return printable(value);
  return printable(JSON.stringify(value) ?? String(value));
}

export function anchorId(prefix: string, name: string, index: number): string {
  return `${prefix}-${index}-${name.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60)}`;
}
