/** Glob matching with Redis's stringmatchlen rules (*, ?, [a-z], [^x], backslash escapes). */
export function globMatch(pattern: string, str: string, nocase = false): boolean {
  if (nocase) {
    pattern = pattern.toLowerCase();
    str = str.toLowerCase();
  }
  return matchFrom(pattern, 0, str, 0, 0, { skipLonger: false });
}

/** Set once the rest of a pattern after a '*' matched nowhere: earlier stars need not try longer matches. */
interface MatchState {
  skipLonger: boolean;
}

function matchFrom(p: string, pi: number, s: string, si: number, depth: number, st: MatchState): boolean {
  // Redis bounds recursion the same way, so pathological patterns just fail to match.
  if (depth > 1000) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const c = p[pi];
    if (c === '*') {
      while (pi + 1 < plen && p[pi + 1] === '*') pi++;
      if (pi + 1 === plen) return true;
      for (let k = si; k < slen; k++) {
        if (matchFrom(p, pi + 1, s, k, depth + 1, st)) return true;
        if (st.skipLonger) return false;
      }
      // Without this, a*a*a*...b against a long run of a's takes exponential time (Redis's skipLongerMatches).
      st.skipLonger = true;
      return false;
    } else if (c === '?') {
      si++;
    } else if (c === '[') {
      pi++;
      const not = p[pi] === '^';
      if (not) pi++;
      let match = false;
      for (;;) {
        if (p[pi] === '\\' && pi + 1 < plen) {
          pi++;
          if (p[pi] === s[si]) match = true;
        } else if (p[pi] === ']') {
          break;
        } else if (pi >= plen) {
          pi--;
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
    } else {
      if (c === '\\' && pi + 1 < plen) pi++;
      if (p[pi] !== s[si]) return false;
      si++;
    }
    pi++;
    if (si === slen) {
      while (pi < plen && p[pi] === '*') pi++;
      break;
    }
  }
  return pi === plen && si === slen;
}
