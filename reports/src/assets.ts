/** The page shell: inlined styles, uPlot and the client script, so a report opens from disk with no network. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../../harness/src/topology/paths.js';
import { html, inlineJson, inlineScript, inlineStyle, type SafeHtml } from './html.js';

export interface Assets {
  css: string;
  uplotCss: string;
  uplotJs: string;
  clientJs: string;
}

let cached: Promise<Assets> | undefined;

/** reports/assets under the package root, wherever the compiled output lives. */
function assetsDir(): string {
  return path.join(packageRoot(), 'reports', 'assets') + path.sep;
}

export function loadAssets(): Promise<Assets> {
  cached ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = assetsDir();
    const [css, clientJs, uplotCss, uplotJs] = await Promise.all([
      readFile(dir + 'report.css', 'utf8'),
      readFile(dir + 'report-client.js', 'utf8'),
      readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
      readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    ]);
    return { css, uplotCss, uplotJs, clientJs };
  })();
  return cached;
}

export async function page(title: string, body: SafeHtml, chartData?: unknown): Promise<string> {
  const a = await loadAssets();
  const scripts =
    chartData === undefined
      ? html``
      : html`<script type="application/json" id="report-data">${inlineJson(chartData)}</script>
<script>${inlineScript(a.uplotJs)}</script>
<script>${inlineScript(a.clientJs)}</script>`;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${title}</title>
<style>${inlineStyle(a.uplotCss)}</style>
<style>${inlineStyle(a.css)}</style>
</head>
<body>
<main>
${body}
</main>
${scripts}
</body>
</html>
`.value;
}
