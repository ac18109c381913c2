/** Public entry points of the HTML report renderer (the CLI's `report` command calls these). */
export { renderRunReport, buildRunPage } from './run-report.js';
export { renderComparisonReport, differences, type Difference } from './comparison.js';
export { renderIndex, type IndexOptions } from './index-page.js';
export { summaryTable } from './summary.js';
export { loadRun, loadResults } from './load.js';
