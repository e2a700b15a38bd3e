// The report writer: HTML with inline SVG charts, results.json, CSVs, and the terminal summary table.
export { writeReport, writeFileAtomic, type ReportFiles } from './write.js';
export { renderReportHtml, genericTable, invarianceSection, summaryKeyOf } from './html.js';
export { formatSummaryTable } from './terminal.js';
export { summaryCsv, runsCsv, toCsv } from './csv.js';
export { lineChart, niceTicks, type ChartSeries, type LineChartOptions } from './svg-chart.js';
export { kernelChecksSection } from './kernel-checks-html.js';
export { intervalBars } from './interval-chart.js';
