// Opens an `sfevents report --format html` page in a real headless Chromium (Debian's
// /usr/bin/chromium, driven by puppeteer-core, which downloads no browser) and prints one JSON
// object describing what the browser shows a reader:
//
//   { title, h1, requests_blocked: [url], console_errors: [text], toc: [href],
//     anchors_missing: [href], sections: [id], empty_tables: [id],
//     tables: {ID: [[cell text, ...], ...]}, table_values: {ID: [[data-value or null, ...]]},
//     table_columns: {ID: [name, ...]},
//     figures: [{section, label, text, value}],
//     charts: [CHART], pdf_bytes }
//
// Text is the text as rendered (a cell's, a figure's, a tick's), and every position is the
// element's box as laid out, in CSS pixels of the page (getBoundingClientRect): what a reader
// sees, not what the renderer says about its data. A CHART is
//
//   { table: the ID of the table drawn beside it (same block), name: its accessible name,
//     width, height,
//     legend: [{name, fill}],                       series names and their swatch colour
//     grid: [{label, line: BOX, text: BOX}],        value-axis ticks: label and grid line
//     xaxis: [{label, line: BOX, text: BOX}],       category labels under a series chart
//     rects: [{x, y, w, h, fill, shown}],           every rectangle but the legend's
//     circles: [{x, y, w, h, fill, shown}],
//     labels: [{text, full, x, y, w, h}],           bar labels (shown text, full text)
//     values: [{text, x, y, w, h}] }                the value written at a bar's end
//
// (data-value is kept for tables and figures: the exact value beside the text.)
//
// Usage: node html_report.mjs PAGE.html [--screenshot OUT.png [--clip-height PX]] [--pdf OUT.pdf]
// (--clip-height keeps the top PX pixels of the page: the README's picture.)
// Environment: CHROMIUM (default /usr/bin/chromium).
//
// Every request that is not file:// or data: is recorded and aborted, and DNS is mapped to
// nothing (--host-resolver-rules), so a page that tries to reach the network is caught, never
// served.

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { writeFile } from "node:fs/promises";
import puppeteer from "puppeteer-core";

const args = process.argv.slice(2);
const page_path = args[0];
if (!page_path) {
  console.error("usage: node html_report.mjs PAGE.html [--screenshot OUT.png] [--pdf OUT.pdf]");
  process.exit(2);
}
const opt = (name) => {
  const i = args.indexOf(name);
  return i > 0 ? args[i + 1] : undefined;
};
const screenshot = opt("--screenshot");
const clip_height = Number(opt("--clip-height") || 0);
const pdf_out = opt("--pdf");

// Never hang a test run.
setTimeout(() => {
  console.error("html_report.mjs: timed out");
  process.exit(3);
}, 90_000).unref();

const launch_args = [
  "--host-resolver-rules=MAP * ~NOTFOUND",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--metrics-recording-only",
  "--font-render-hinting=none",
];
if (process.getuid && process.getuid() === 0) {
  launch_args.push("--no-sandbox");
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: launch_args,
});

const result = { requests_blocked: [], console_errors: [] };
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const url = req.url();
    if (url.startsWith("file:") || url.startsWith("data:")) {
      req.continue();
    } else {
      result.requests_blocked.push(url);
      req.abort("blockedbyclient");
    }
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      result.console_errors.push(msg.text());
    }
  });
  page.on("pageerror", (err) => result.console_errors.push(`pageerror: ${err.message || err}`));

  const url = pathToFileURL(resolve(page_path)).href;
  const response = await page.goto(url, { waitUntil: "load", timeout: 30_000 });
  if (!response || !response.ok()) {
    result.console_errors.push(`load: ${response ? response.status() : "no response"}`);
  }

  Object.assign(
    result,
    await page.evaluate(() => {
      const text = (el) => (el ? el.textContent.trim() : null);
      const box = (el) => {
        const r = el.getBoundingClientRect();
        return { x: r.left, y: r.top, w: r.width, h: r.height };
      };
      // Rendered: not display:none, not hidden, not transparent.
      const shown = (el) => {
        const cs = getComputedStyle(el);
        return cs.display !== "none" && cs.visibility !== "hidden" && Number(cs.opacity) > 0;
      };
      // An SVG text's own characters, without its <title> (a tooltip, not drawn).
      const own = (el) =>
        [...el.childNodes]
          .filter((n) => n.nodeType === Node.TEXT_NODE)
          .map((n) => n.nodeValue)
          .join("");
      const mark = (el) => ({ ...box(el), fill: getComputedStyle(el).fill, shown: shown(el) });
      // A tick: its label and the line drawn just before it.
      const tick = (t) => ({
        label: own(t),
        text: box(t),
        line: t.previousElementSibling ? box(t.previousElementSibling) : null,
      });
      const out = {
        title: document.title,
        h1: text(document.querySelector("h1")),
        sections: [...document.querySelectorAll("section[id]")].map((s) => s.id),
        toc: [...document.querySelectorAll("nav a[href^='#']")].map((a) => a.getAttribute("href")),
        charts: [],
        tables: {},
        table_values: {},
        table_columns: {},
        empty_tables: [],
        figures: [],
      };
      out.anchors_missing = out.toc.filter((h) => !document.getElementById(h.slice(1)));
      for (const svg of document.querySelectorAll("svg")) {
        const size = box(svg);
        const block = svg.closest(".table-block");
        const table = block ? block.querySelector("table[data-table]") : null;
        out.charts.push({
          table: table ? table.getAttribute("data-table") : null,
          name: svg.getAttribute("aria-label"),
          width: Math.round(size.w),
          height: Math.round(size.h),
          legend: [...svg.querySelectorAll(".legend")].map((g) => ({
            name: own(g.querySelector("text")),
            fill: getComputedStyle(g.querySelector("rect")).fill,
          })),
          grid: [...svg.querySelectorAll(".grid text")].map(tick),
          xaxis: [...svg.querySelectorAll(".xaxis text")].map(tick),
          rects: [...svg.querySelectorAll("rect")].filter((r) => !r.closest(".legend")).map(mark),
          circles: [...svg.querySelectorAll("circle")].map(mark),
          labels: [...svg.querySelectorAll("text.label")].map((t) => ({
            text: own(t),
            full: text(t.querySelector("title")),
            ...box(t),
          })),
          values: [...svg.querySelectorAll("text.value")].map((t) => ({ text: own(t), ...box(t) })),
        });
      }
      for (const table of document.querySelectorAll("table[data-table]")) {
        const id = table.getAttribute("data-table");
        out.table_columns[id] = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
        const rows = [...table.querySelectorAll("tbody tr")].map((tr) => [...tr.querySelectorAll("td")]);
        out.tables[id] = rows.map((tds) => tds.map((td) => td.textContent));
        out.table_values[id] = rows.map((tds) => tds.map((td) => td.getAttribute("data-value")));
        if (rows.length === 0) out.empty_tables.push(id);
      }
      for (const f of document.querySelectorAll(".figure")) {
        out.figures.push({
          section: f.closest("section")?.id ?? null,
          label: f.querySelector(".figure-label")?.textContent ?? null,
          text: f.querySelector(".figure-value")?.textContent ?? null,
          value: f.getAttribute("data-value"),
        });
      }
      return out;
    }),
  );

  if (screenshot) {
    await page.screenshot(
      clip_height > 0
        ? { path: screenshot, clip: { x: 0, y: 0, width: 1280, height: clip_height } }
        : { path: screenshot, fullPage: true },
    );
  }
  // Print to PDF: the print stylesheet must render without error.
  const pdf = await page.pdf({ format: "A4", printBackground: true, preferCSSPageSize: true });
  const head = Buffer.from(pdf.subarray(0, 5)).toString("latin1");
  result.pdf_bytes = head === "%PDF-" ? pdf.length : 0;
  if (pdf_out) {
    await writeFile(pdf_out, pdf);
  }
} finally {
  await browser.close();
}

process.stdout.write(JSON.stringify(result) + "\n");
