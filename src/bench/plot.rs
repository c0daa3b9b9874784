//! Line charts with axes, as inline SVG, for the lab's page: the throughput over time of each
//! strategy, and its latency percentiles (log scales).

/// The drawing, in px: the plot area inside margins for the axes' labels.
const WIDTH_PX: f64 = 760.0;
const HEIGHT_PX: f64 = 300.0;
const LEFT_PX: f64 = 64.0;
const RIGHT_PX: f64 = 16.0;
const TOP_PX: f64 = 12.0;
const BOTTOM_PX: f64 = 44.0;

/// How an axis maps values to the page.
#[derive(Clone, Copy, Debug)]
pub enum Scale {
    Linear {
        min: f64,
        max: f64,
    },
    /// Powers of ten between `min` and `max`, both positive.
    Log10 {
        min: f64,
        max: f64,
    },
}

impl Scale {
    /// Where `value` falls, from 0 (min) to 1 (max).
    fn fraction(self, value: f64) -> f64 {
        let f = match self {
            Scale::Linear { min, max } => (value - min) / (max - min).max(f64::EPSILON),
            Scale::Log10 { min, max } => {
                let (lo, hi) = (min.max(f64::MIN_POSITIVE).log10(), max.max(f64::MIN_POSITIVE).log10());
                (value.max(f64::MIN_POSITIVE).log10() - lo) / (hi - lo).max(f64::EPSILON)
            }
        };
        f.clamp(0.0, 1.0)
    }
}

pub struct Axis {
    pub title: String,
    pub scale: Scale,
    /// (value, label) of each tick.
    pub ticks: Vec<(f64, String)>,
}

pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'a str,
    pub points: Vec<(f64, f64)>,
}

fn x_px(axis: &Axis, value: f64) -> f64 {
    LEFT_PX + axis.scale.fraction(value) * (WIDTH_PX - LEFT_PX - RIGHT_PX)
}

fn y_px(axis: &Axis, value: f64) -> f64 {
    HEIGHT_PX - BOTTOM_PX - axis.scale.fraction(value) * (HEIGHT_PX - TOP_PX - BOTTOM_PX)
}

/// One SVG element: the axes with their ticks and titles, and a line with dots per series.
pub fn line_chart(series: &[Series<'_>], x: &Axis, y: &Axis) -> String {
    let (bottom, right) = (HEIGHT_PX - BOTTOM_PX, WIDTH_PX - RIGHT_PX);
    let mut svg = format!(
        "<svg width='{WIDTH_PX}' height='{HEIGHT_PX}' font-size='11'>\
         <line x1='{LEFT_PX}' y1='{TOP_PX}' x2='{LEFT_PX}' y2='{bottom}' stroke='#333'/>\
         <line x1='{LEFT_PX}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#333'/>"
    );
    for (value, label) in &x.ticks {
        let px = x_px(x, *value);
        svg.push_str(&format!(
            "<line x1='{px:.1}' y1='{bottom}' x2='{px:.1}' y2='{:.1}' stroke='#333'/>\
             <text x='{px:.1}' y='{:.1}' text-anchor='middle'>{}</text>",
            bottom + 4.0,
            bottom + 16.0,
            escape(label)
        ));
    }
    for (value, label) in &y.ticks {
        let py = y_px(y, *value);
        svg.push_str(&format!(
            "<line x1='{LEFT_PX}' y1='{py:.1}' x2='{right}' y2='{py:.1}' stroke='#eee'/>\
             <text x='{:.1}' y='{:.1}' text-anchor='end'>{}</text>",
            LEFT_PX - 6.0,
            py + 4.0,
            escape(label)
        ));
    }
    svg.push_str(&format!(
        "<text x='{:.1}' y='{:.1}' text-anchor='middle'>{}</text>\
         <text x='14' y='{:.1}' text-anchor='middle' transform='rotate(-90 14 {:.1})'>{}</text>",
        (LEFT_PX + right) / 2.0,
        HEIGHT_PX - 6.0,
        escape(&x.title),
        (TOP_PX + bottom) / 2.0,
        (TOP_PX + bottom) / 2.0,
        escape(&y.title)
    ));
    for s in series {
        let path: Vec<String> =
            s.points.iter().map(|(vx, vy)| format!("{:.1},{:.1}", x_px(x, *vx), y_px(y, *vy))).collect();
        svg.push_str(&format!(
            "<polyline fill='none' stroke='{}' stroke-width='2' points='{}'><title>{}</title></polyline>",
            s.color,
            path.join(" "),
            escape(s.name)
        ));
        for (vx, vy) in &s.points {
            svg.push_str(&format!(
                "<circle cx='{:.1}' cy='{:.1}' r='2' fill='{}'/>",
                x_px(x, *vx),
                y_px(y, *vy),
                s.color
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Ticks at round values from 0 to past `max`, about five of them.
pub fn linear_ticks(max: f64, unit: &str) -> (f64, Vec<(f64, String)>) {
    let max = max.max(f64::MIN_POSITIVE);
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let top = (max / step).ceil() * step;
    let ticks =
        (0..=((top / step).round() as usize)).map(|i| i as f64 * step).map(|v| (v, round_label(v, unit))).collect();
    (top, ticks)
}

/// Ticks at each power of ten from below `min` to above `max`.
pub fn log_ticks(min: f64, max: f64, unit: &str) -> (f64, f64, Vec<(f64, String)>) {
    let (lo, hi) = (min.max(1e-3).log10().floor() as i32, max.max(1e-3).log10().ceil() as i32);
    let hi = hi.max(lo + 1);
    let ticks = (lo..=hi).map(|e| 10f64.powi(e)).map(|v| (v, round_label(v, unit))).collect();
    (10f64.powi(lo), 10f64.powi(hi), ticks)
}

fn round_label(value: f64, unit: &str) -> String {
    let (value, suffix) = if value >= 1_000_000.0 {
        (value / 1_000_000.0, "M")
    } else if value >= 10_000.0 {
        (value / 1_000.0, "k")
    } else {
        (value, "")
    };
    let number = format!("{value:.3}");
    let number = number.trim_end_matches('0').trim_end_matches('.');
    format!("{number}{suffix}{unit}")
}

/// Where a percentile falls on a scale of nines: 90 is 1, 99 is 2, 99.9 is 3.
pub fn nines(percentile: f64) -> f64 {
    -(1.0 - percentile / 100.0).max(1e-9).log10()
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_cover_the_maximum() {
        let (top, ticks) = linear_ticks(72_400.0, "");
        assert_eq!(top, 80_000.0);
        assert_eq!(ticks.first().unwrap().0, 0.0);
        assert_eq!(ticks.last().unwrap().1, "80k");
    }

    #[test]
    fn log_ticks_span_whole_powers_of_ten() {
        let (lo, hi, ticks) = log_ticks(0.4, 37.0, " ms");
        assert_eq!((lo, hi), (0.1, 100.0));
        assert_eq!(ticks.len(), 4);
        assert_eq!(ticks[2].1, "10 ms");
    }

    #[test]
    fn nines_count_the_nines() {
        assert!((nines(99.0) - 2.0).abs() < 1e-9);
        assert!((nines(99.99) - 4.0).abs() < 1e-6);
        assert!((nines(50.0) - std::f64::consts::LOG10_2).abs() < 1e-9);
    }
}
