/** Glob matching with Redis's stringmatchlen rules (*, ?, [a-z], [^x], backslash escapes). */
export function globMatch(pattern: string, str: string, nocase = false): boolean {
  if (nocase) {
    pattern = pattern.toLowerCase();
    str = str.toLowerCase();
  }
  return matchFrom(pattern, 0, str, 0, 0);
}

function matchFrom(p: string, pi: number, s: string, si: number, depth: number): boolean {
  // Redis bounds recursion the same way, so pathological patterns just fail to match.
  if (depth > 1000) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si <= slen) {
    const c = p[pi];
    if (c === '*') {
      while (pi + 1 < plen && p[pi + 1] === '*') pi++;
      if (pi + 1 === plen) return true;
      for (let k = si; k <= slen; k++) {
        if (matchFrom(p, pi + 1, s, k, depth + 1)) return true;
      }
      return false;
    }
    if (si >= slen) break;
    if (c === '?') {
      si++;
      pi++;
      continue;
    }
    if (c === '[') {
      pi++;
      const not = p[pi] === '^';
      if (not) pi++;
      let match = false;
      for (;;) {
        if (pi >= plen) {
          pi--;
          break;
        }
        if (p[pi] === '\\' && pi + 2 <= plen - 1 + 1 && pi + 1 < plen) {
          pi++;
          if (p[pi] === s[si]) match = true;
        } else if (p[pi] === ']') {
          break;
        } else if (pi + 2 < plen && p[pi + 1] === '-') {
          let start = p.charCodeAt(pi);
          let end = p.charCodeAt(pi + 2);
          const ch = s.charCodeAt(si);
          if (start > end) [start, end] = [end, start];
          pi += 2;
          if (ch >= start && ch <= end) match = true;
        } else if (p[pi] === s[si]) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
      pi++;
      continue;
    }
    if (c === '\\' && pi + 1 < plen) pi++;
    if (p[pi] !== s[si]) return false;
    si++;
    pi++;
  }
  while (pi < plen && p[pi] === '*') pi++;
  return pi === plen && si === slen;
}
