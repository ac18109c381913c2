/** Splits a line the way Redis's sdssplitargs does (inline commands, redis.conf lines); null on unbalanced quotes. */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) return out;
    let inq = false;
    let insq = false;
    let done = false;
    let cur = '';
    while (!done) {
      if (inq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === '\\' && line[i + 1] === 'x' && isHex(line.charCodeAt(i + 2)) && isHex(line.charCodeAt(i + 3))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          // A closing quote must be followed by a space or the end.
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          done = true;
        } else {
          cur += c;
        }
      } else if (insq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          done = true;
        } else {
          cur += c;
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        const c = line[i];
        if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\0') done = true;
        else if (c === '"') inq = true;
        else if (c === "'") insq = true;
        else cur += c;
      }
      if (i < n) i++;
    }
    out.push(cur);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Quotes a string the way Redis's sdscatrepr does (CONFIG REWRITE, MONITOR, redis-cli). */
export function reprString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c: out += '\\\\'; break;
      case 0x22: out += '\\"'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x07: out += '\\a'; break;
      case 0x08: out += '\\b'; break;
      default:
        if (c >= 0x20 && c < 0x7f) out += s[i];
        else out += '\\x' + c.toString(16).padStart(2, '0');
    }
  }
  return out + '"';
}
