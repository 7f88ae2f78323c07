// Draws the transparency page's charts from the figures the page carries in its JSON block (no inline
// script, so a strict Content-Security-Policy holds). The tables under each chart hold the same numbers,
// so a reader without the charts, or with a screen reader, loses nothing.
const specs = JSON.parse(document.getElementById("figures").textContent);
const locale = document.documentElement.lang || "en";
const quiet = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
// Distinct in hue and lightness, so the series stay apart for common colour-vision deficiencies.
const COLOURS = ["#1b6ac9", "#e69f00", "#6b6b6b", "#009e73"];
const numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });

function tick(unit) {
  return (value) => (unit === "percent" ? `${numbers.format(value)}%` : numbers.format(value));
}

function options(spec) {
  const valueAxis = { beginAtZero: true, stacked: spec.stacked, ticks: { callback: tick(spec.unit) } };
  if (spec.unit === "percent") valueAxis.max = 100;
  if (spec.unit === "count") valueAxis.ticks.precision = 0;
  const categoryAxis = { stacked: spec.stacked };
  return {
    indexAxis: spec.horizontal ? "y" : "x",
    maintainAspectRatio: false,
    animation: quiet ? false : undefined,
    scales: spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
    plugins: {
      title: { display: false },
      tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${tick(spec.unit)(item.parsed[spec.horizontal ? "x" : "y"])}` } },
    },
  };
}

for (const spec of specs) {
  const canvas = document.getElementById(spec.id);
  if (!canvas) continue;
  const datasets = spec.datasets.map((set, i) => ({
    label: set.label,
    data: set.data,
    backgroundColor: COLOURS[i % COLOURS.length],
    borderColor: COLOURS[i % COLOURS.length],
    spanGaps: false,
    maxBarThickness: 48,
  }));
  new window.Chart(canvas, { type: spec.kind, data: { labels: spec.labels, datasets }, options: options(spec) });
}
