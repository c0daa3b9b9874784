//! The `--report` page: one self-contained HTML file (inline SVG, no scripts, no network) with
//! throughput per strategy and over time, the latency distribution and percentiles of each, and
//! the full table.

use serde_json::Value;

use super::plot::{self, escape, Axis, Scale, Series};
use super::report::RunReport;

const BAR_WIDTH_PX: f64 = 440.0;
const COLORS: [&str; 7] = ["#1b7f5b", "#c0392b", "#d68910", "#2e86c1", "#7d3c98", "#566573", "#17a589"];

pub fn page(machine: &Value, params: &Value, reports: &[RunReport]) -> String {
    let ran: Vec<&RunReport> = reports.iter().filter(|r| r.attempted > 0).collect();
    let (throughput, throughput_height) = throughput_bars(&ran);
    let latency = latency_histogram(&ran);
    let over_time = throughput_over_time(&ran);
    let percentiles = latency_percentiles(&ran);
    let legend: String = ran
        .iter()
        .enumerate()
        .map(|(i, r)| format!("<span style='color:{}'>■ {}</span> ", COLORS[i % COLORS.len()], escape(r.strategy)))
        .collect();
    let rows: String = reports.iter().map(table_row).collect();
    format!(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>warung flash-sale lab</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1280px}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child{{text-align:left}}\
         pre{{background:#f6f6f6;padding:8px}}</style></head><body>\
         <h1>Flash sale: strategies side by side</h1>\
         <h2>Throughput (purchase attempts per second)</h2><svg width='800' height='{throughput_height}'>{throughput}</svg>\
         <h2>Throughput over time (attempts per second)</h2><p>{legend}</p>{over_time}\
         <h2>Latency percentiles (both axes logarithmic)</h2><p>{legend}</p>{percentiles}\
         <h2>Latency distribution (attempts per bucket, upper bound in ms)</h2><p>{legend}</p>\
         <svg width='760' height='240'>{latency}</svg>\
         <h2>Results</h2><table><tr><th>strategy</th><th>durable</th><th>attempted</th><th>sold</th><th>sold out</th>\
         <th>no money</th><th>oversold</th><th>negative wallets</th><th>money conserved</th><th>per s</th>\
         <th>vs row lock</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>correct</th></tr>{rows}</table>\
         <h2>Parameters and machine</h2><pre>{}\n{}</pre></body></html>",
        escape(&serde_json::to_string_pretty(params).unwrap_or_default()),
        escape(&serde_json::to_string_pretty(machine).unwrap_or_default()),
    )
}

/// One bar per strategy that ran, scaled to the fastest; and the drawing's height.
fn throughput_bars(ran: &[&RunReport]) -> (String, f64) {
    let best = ran.iter().map(|r| r.throughput_per_s).fold(1.0, f64::max);
    let mut throughput = String::new();
    for (i, r) in ran.iter().enumerate() {
        let width = (r.throughput_per_s / best * BAR_WIDTH_PX).max(1.0);
        let y = i as f64 * 34.0;
        throughput.push_str(&format!(
            "<text x='0' y='{}' font-size='13'>{}</text><rect x='120' y='{}' width='{width:.1}' height='22' fill='{}'/>\
             <text x='{:.1}' y='{}' font-size='12'>{:.0}/s{}</text>",
            y + 16.0,
            escape(r.strategy),
            y + 2.0,
            COLORS[i % COLORS.len()],
            126.0 + width,
            y + 17.0,
            r.throughput_per_s,
            if r.durable { "" } else { " (not durable)" }
        ));
    }
    (throughput, ran.len() as f64 * 34.0 + 4.0)
}

/// Each strategy's attempts per second, step by step through its run.
fn throughput_over_time(ran: &[&RunReport]) -> String {
    let longest = ran.iter().flat_map(|r| r.throughput_over_time.iter().map(|p| p.0)).fold(0.0, f64::max);
    let fastest = ran.iter().flat_map(|r| r.throughput_over_time.iter().map(|p| p.1)).fold(0.0, f64::max);
    let (x_top, x_ticks) = plot::linear_ticks(longest, " s");
    let (y_top, y_ticks) = plot::linear_ticks(fastest, "");
    let x =
        Axis { title: "seconds since the start".into(), scale: Scale::Linear { min: 0.0, max: x_top }, ticks: x_ticks };
    let y = Axis { title: "attempts per second".into(), scale: Scale::Linear { min: 0.0, max: y_top }, ticks: y_ticks };
    let series: Vec<Series<'_>> = ran
        .iter()
        .enumerate()
        .map(|(i, r)| Series {
            name: r.strategy,
            color: COLORS[i % COLORS.len()],
            points: r.throughput_over_time.clone(),
        })
        .collect();
    plot::line_chart(&series, &x, &y)
}

/// Each strategy's latency at p50 to p99.99: percentiles on a scale of nines, ms on a log scale.
fn latency_percentiles(ran: &[&RunReport]) -> String {
    let all_ms = || ran.iter().flat_map(|r| r.latency_percentiles_ms.iter().map(|p| p.1));
    let (lo, hi, y_ticks) = plot::log_ticks(all_ms().fold(f64::MAX, f64::min), all_ms().fold(0.0, f64::max), " ms");
    let x_ticks = [50.0, 90.0, 99.0, 99.9, 99.99].iter().map(|p| (plot::nines(*p), format!("p{p}"))).collect();
    let x = Axis {
        title: "percentile".into(),
        scale: Scale::Linear { min: plot::nines(50.0), max: plot::nines(99.99) },
        ticks: x_ticks,
    };
    let y = Axis { title: "latency".into(), scale: Scale::Log10 { min: lo, max: hi }, ticks: y_ticks };
    let series: Vec<Series<'_>> = ran
        .iter()
        .enumerate()
        .map(|(i, r)| Series {
            name: r.strategy,
            color: COLORS[i % COLORS.len()],
            points: r.latency_percentiles_ms.iter().map(|(p, ms)| (plot::nines(*p), *ms)).collect(),
        })
        .collect();
    plot::line_chart(&series, &x, &y)
}

/// Each strategy's attempts per latency bucket, side by side, with the buckets' upper bounds.
fn latency_histogram(ran: &[&RunReport]) -> String {
    let mut latency = String::new();
    let max_bucket = ran.iter().flat_map(|r| r.latency_histogram_ms.iter().map(|b| b.1)).max().unwrap_or(1).max(1);
    let bucket_count = ran.iter().map(|r| r.latency_histogram_ms.len()).max().unwrap_or(0);
    let column = 640.0 / (bucket_count.max(1) as f64);
    for (i, r) in ran.iter().enumerate() {
        let width = (column / ran.len() as f64 - 1.0).max(1.0);
        for (j, (_, count)) in r.latency_histogram_ms.iter().enumerate() {
            let height = *count as f64 / max_bucket as f64 * 200.0;
            let x = 40.0 + j as f64 * column + i as f64 * (width + 1.0);
            latency.push_str(&format!(
                "<rect x='{x:.1}' y='{:.1}' width='{width:.1}' height='{height:.1}' fill='{}'><title>{}: {count}</title></rect>",
                210.0 - height,
                COLORS[i % COLORS.len()],
                escape(r.strategy)
            ));
        }
    }
    let longest = ran.iter().max_by_key(|r| r.latency_histogram_ms.len());
    for (j, (upper, _)) in longest.map(|r| r.latency_histogram_ms.clone()).unwrap_or_default().iter().enumerate() {
        if j % 2 == 0 {
            latency.push_str(&format!(
                "<text x='{:.1}' y='228' font-size='10'>≤{}</text>",
                40.0 + j as f64 * column,
                if *upper < 1.0 { format!("{upper:.2}") } else { format!("{upper:.0}") }
            ));
        }
    }
    latency
}

/// The table's row for one strategy, ran or not.
fn table_row(r: &RunReport) -> String {
    let verdict = if r.correct {
        "yes".to_string()
    } else {
        format!("<b style='color:#c0392b'>NO</b> {}", escape(r.error.as_deref().unwrap_or("")))
    };
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
         <td>{:.0}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{verdict}</td></tr>",
        escape(r.strategy),
        if r.durable { "yes" } else { "no" },
        r.attempted,
        r.sold,
        r.refused_sold_out,
        r.refused_insufficient,
        r.oversold,
        r.negative_wallets,
        if r.money_conserved { "yes".to_string() } else { format!("off by {}", escape(&r.money_difference)) },
        r.throughput_per_s,
        r.vs_pg_row_lock.map_or("-".to_string(), |x| format!("{x:.1}x")),
        r.latency_ms.p50,
        r.latency_ms.p99,
        r.latency_ms.p999,
        r.latency_ms.max,
    )
}
