use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::render::{Scene, TEXT, ensure_font, palette, render_rgb};
use super::*;

/// A fresh, empty temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("kafkasim-charts-{}-{}-{}", std::process::id(), name, n));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// Renders with `draw` into two separate directories and checks the files are
/// byte-identical, well-formed and non-trivial. Returns the PNG bytes.
fn assert_deterministic(name: &str, draw: impl Fn(&Path, &Path) -> anyhow::Result<()>) {
    let (a, b) = (TempDir::new(name), TempDir::new(name));
    draw(&a.path("c.png"), &a.path("c.svg")).unwrap();
    draw(&b.path("c.png"), &b.path("c.svg")).unwrap();
    let (png_a, png_b) = (read(&a.path("c.png")), read(&b.path("c.png")));
    let (svg_a, svg_b) = (read(&a.path("c.svg")), read(&b.path("c.svg")));
    assert!(png_a == png_b, "{name}: PNG differs between renders");
    assert!(svg_a == svg_b, "{name}: SVG differs between renders");
    assert_eq!(&png_a[..8], b"\x89PNG\r\n\x1a\n", "{name}: not a PNG");
    assert!(png_a.len() > 8_000, "{name}: PNG suspiciously small");
    assert_well_formed_svg(name, &svg_a);
}

fn assert_well_formed_svg(name: &str, svg: &[u8]) {
    let s = std::str::from_utf8(svg).expect("SVG is UTF-8");
    assert!(s.starts_with("<svg"), "{name}: not an SVG");
    assert!(s.trim_end().ends_with("</svg>"), "{name}: truncated SVG");
    assert!(s.contains("<text"), "{name}: SVG has no text");
    for bad in ["NaN", "inf"] {
        assert!(!s.contains(bad), "{name}: SVG contains {bad}");
    }
}

/// Renders every input with `draw` once and checks both files appear.
fn assert_renders(name: &str, draw: impl Fn(&Path, &Path) -> anyhow::Result<()>) {
    let d = TempDir::new(name);
    let (png, svg) = (d.path("c.png"), d.path("c.svg"));
    draw(&png, &svg).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    assert_eq!(&read(&png)[..8], b"\x89PNG\r\n\x1a\n", "{name}: not a PNG");
    assert_well_formed_svg(name, &read(&svg));
}

fn s(label: &str, points: Vec<(f64, f64)>) -> Series {
    Series { label: label.into(), points, ..Default::default() }
}

fn m(x: f64, label: &str) -> Marker {
    Marker { x, label: label.into(), number: None }
}

fn span(start: f64, end: f64, owner: Option<&str>) -> Span {
    Span { start, end, owner: owner.map(Into::into), ..Default::default() }
}

fn sample_series() -> Vec<Series> {
    (0..3)
        .map(|k| {
            let pts = (0..=600)
                .map(|i| {
                    let t = i as f64 * 0.5;
                    let wave = ((i * (k + 3)) % 97) as f64;
                    (t, 1000.0 * (k + 1) as f64 + 40.0 * wave)
                })
                .collect();
            s(&format!("consumer-{k} lag"), pts)
        })
        .collect()
}

fn sample_markers() -> Vec<Marker> {
    vec![
        m(30.0, "kill broker-1"),
        m(30.0, "rebalance"),
        m(30.0, "rebalance"),
        m(31.0, "partition leader moved to broker-2"),
        m(120.0, "restart broker-1"),
        m(500.0, "out of range"),
        m(f64::NAN, "nan"),
    ]
}

fn sample_rows() -> Vec<OwnershipRow> {
    (0..6)
        .map(|p| OwnershipRow {
            label: format!("orders-{p}"),
            spans: vec![
                span(0.0, 30.0, Some(["c-a", "c-b", "c-c"][p % 3])),
                // gap 30..34: nobody owns the partition during the rebalance
                span(34.0, 120.0, Some(["c-b", "c-c"][p % 2])),
                span(120.0, 130.0, None),
                span(130.0, 400.0, Some("c-a")),
            ],
            ..Default::default()
        })
        .collect()
}

fn sample_bars() -> (Vec<String>, Vec<BarGroup>) {
    let cats = ["p50", "p99", "max"].map(String::from).to_vec();
    let groups = vec![
        BarGroup { label: "pull".into(), values: vec![3.2, 48.5, 120.0], ..Default::default() },
        BarGroup { label: "push".into(), values: vec![1.1, 12.0, 300.25], ..Default::default() },
    ];
    (cats, groups)
}

#[test]
fn line_chart_is_deterministic() {
    let (series, markers) = (sample_series(), sample_markers());
    assert_deterministic("line", |png, svg| {
        line_chart(png, svg, "Consumer lag", "virtual time (s)", "messages", &series, &markers)
    });
}

#[test]
fn ownership_chart_is_deterministic() {
    let rows = sample_rows();
    let markers = sample_markers();
    assert_deterministic("own", |png, svg| ownership_chart(png, svg, "Partition ownership", &rows, 300.0, &markers));
}

#[test]
fn bar_chart_is_deterministic() {
    let (cats, groups) = sample_bars();
    assert_deterministic("bar", |png, svg| bar_chart(png, svg, "End-to-end latency", "ms", &cats, &groups));
}

fn count_pixels(rgb: &[u8], pred: impl Fn(u8, u8, u8) -> bool) -> usize {
    rgb.chunks_exact(3).filter(|p| pred(p[0], p[1], p[2])).count()
}

#[test]
fn png_pixels_show_data_and_text() {
    ensure_font().unwrap();
    let scene: Scene = line::scene(&LineChart {
        title: "Consumer lag",
        x_label: "virtual time (s)",
        y_label: "messages",
        series: &sample_series(),
        markers: &sample_markers(),
        ..Default::default()
    });
    let rgb = render_rgb(&scene);
    assert_eq!(rgb.len(), 1200 * scene.height as usize * 3);
    assert!(scene.height > 600, "the marker list adds height under the chart");
    let non_white = count_pixels(&rgb, |r, g, b| (r, g, b) != (255, 255, 255));
    assert!(non_white > 5_000, "only {non_white} non-white pixels");
    let c = palette(0);
    let series0 = count_pixels(&rgb, |r, g, b| (r, g, b) == (c.0, c.1, c.2));
    assert!(series0 > 500, "series colour barely drawn: {series0}");
    // The title band (rows 0..44) holds dark glyph pixels: the font renders.
    let title_band = &rgb[..1200 * 44 * 3];
    let dark = count_pixels(title_band, |r, g, b| r < 120 && g < 120 && b < 120);
    assert!(dark > 150, "title text not rendered ({dark} dark pixels)");
    assert!(count_pixels(title_band, |r, g, b| (r, g, b) == (TEXT.0, TEXT.1, TEXT.2)) > 0);
}

#[test]
fn degenerate_line_inputs_do_not_panic() {
    let many_same: Vec<Marker> = (0..40).map(|i| m(5.0, &format!("action {i}"))).collect();
    let cases: Vec<(&str, Vec<Series>, Vec<Marker>)> = vec![
        ("none", vec![], vec![]),
        ("empty-series", vec![s("", vec![])], vec![m(1.0, "x")]),
        ("one-point", vec![s("one", vec![(3.0, 7.0)])], vec![m(3.0, "here")]),
        ("zeros", vec![s("z", (0..100).map(|i| (i as f64, 0.0)).collect())], vec![]),
        (
            "nan-inf",
            vec![s("bad", vec![(f64::NAN, 1.0), (1.0, f64::INFINITY), (2.0, f64::NAN), (3.0, 2.0)])],
            vec![m(f64::INFINITY, "inf"), m(-1e300, "far")],
        ),
        ("only-nan", vec![s("bad", vec![(f64::NAN, f64::NAN)])], vec![m(0.5, "m")]),
        ("same-x", vec![s("a", vec![(5.0, 1.0), (5.0, 2.0)])], many_same.clone()),
        (
            "crowded-markers",
            vec![s("a", vec![(0.0, 1.0), (10.0, 2.0)])],
            (0..200).map(|i| m(i as f64 * 0.05, "rebalance generation 12345")).collect(),
        ),
        ("negative", vec![s("neg", vec![(0.0, -5.0), (1.0, -50.0)])], vec![]),
        ("huge", vec![s("big", vec![(0.0, f64::MAX), (1.0, -f64::MAX), (f64::MAX, 0.0)])], vec![]),
        ("tiny", vec![s("t", vec![(0.0, 1e-300), (1e-300, 2e-300)])], vec![]),
        (
            "weird-labels",
            vec![s("line\nbreak\t<&>\"'", vec![(0.0, 1.0), (1.0, 2.0)])],
            vec![m(0.5, &"very long marker label ".repeat(20))],
        ),
    ];
    for (name, series, markers) in cases {
        let long = "a very long title ".repeat(30);
        assert_renders(name, |png, svg| line_chart(png, svg, &long, "", "", &series, &markers));
    }
}

#[test]
fn ownership_with_gaps_and_odd_spans() {
    let rows = vec![
        OwnershipRow {
            label: "orders-0".into(),
            spans: vec![
                span(0.0, 10.0, Some("c-1")),
                span(20.0, 30.0, Some("c-2")), // gap 10..20
                span(25.0, 35.0, Some("c-1")), // overlap
                span(50.0, 40.0, Some("c-3")), // reversed: skipped
                span(f64::NAN, 5.0, Some("c-4")),
                span(-10.0, 1e9, None), // clipped to the axis
            ],
            ..Default::default()
        },
        OwnershipRow { label: String::new(), spans: vec![], ..Default::default() },
        OwnershipRow { label: "orders-2".into(), spans: vec![span(60.0, 100.0, Some("c-2"))], ..Default::default() },
    ];
    assert_renders("own-gaps", |png, svg| ownership_chart(png, svg, "gaps", &rows, 100.0, &sample_markers()));
    for x_end in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_renders("own-xend", |png, svg| ownership_chart(png, svg, "x_end", &rows, x_end, &[]));
    }
    assert_renders("own-empty", |png, svg| ownership_chart(png, svg, "", &[], 10.0, &[]));
}

/// `n` partition rows, each owned for the whole 10 s by one of `owners` consumers in turn.
fn partition_rows(n: usize, owners: usize) -> Vec<OwnershipRow> {
    (0..n)
        .map(|p| OwnershipRow {
            label: format!("t-{p}"),
            spans: vec![span(0.0, 10.0, Some(&format!("c-{}", p % owners)))],
            ..Default::default()
        })
        .collect()
}

#[test]
fn ownership_height_grows_with_rows() {
    ensure_font().unwrap();
    let rows = |n: usize| partition_rows(n, 30);
    assert_eq!(ownership::scene("t", &rows(3), 10.0, &[]).height, 400);
    let h60 = ownership::scene("t", &rows(60), 10.0, &[]).height;
    assert!((60 * 22..60 * 22 + 200).contains(&h60), "height {h60}");
    let h_huge = ownership::scene("t", &rows(5_000), 10.0, &[]).height;
    assert!(h_huge <= 16_000);
}

/// Rows thinner than a pixel share pixel rows: a box per pixel row is drawn, not one per row
/// (300,000 group-partitions made a 67 MB SVG); rows of a pixel or more each get theirs.
#[test]
fn rows_thinner_than_a_pixel_draw_a_box_per_pixel_row() {
    ensure_font().unwrap();
    let filled = |n: usize| {
        let scene = ownership::scene("t", &partition_rows(n, 3), 10.0, &[]);
        let count = scene.ops.iter().filter(|op| matches!(op, render::Op::Rect { fill: true, .. })).count();
        (count, scene.height as usize)
    };
    let (many, height) = filled(100_000);
    assert!(many <= 3 * height, "{many} boxes for a {height}-pixel chart (150,000 before)");
    let (few, _) = filled(60);
    assert!(few >= 60 + 30, "every one of 60 rows and 30 stripes is drawn: {few}");
    // And they show: each owner's box covers a pixel row (the renderer's bottom edge is
    // exclusive, and boxes of no height left huge charts blank), and together they cover the
    // plot, one box per pixel row.
    for n in [10_000, 100_000] {
        let scene = ownership::scene("t", &partition_rows(n, 3), 10.0, &[]);
        let owned: Vec<(i32, i32)> = scene
            .ops
            .iter()
            .filter_map(|op| match op {
                render::Op::Rect { y0, y1, color, fill: true, .. } if (0..3).any(|k| *color == palette(k)) => {
                    Some((*y0, *y1))
                }
                _ => None,
            })
            .collect();
        assert!(owned.iter().all(|(y0, y1)| y1 > y0), "{n} rows: a box of no height");
        let rows: std::collections::BTreeSet<i32> = owned.iter().flat_map(|&(y0, y1)| y0..y1).collect();
        let span = rows.last().unwrap() - rows.first().unwrap() + 1;
        assert_eq!(rows.len() as i32, span, "{n} rows: every pixel row of the plot shows an owner");
    }
}

#[test]
fn owner_colours_follow_sorted_names() {
    ensure_font().unwrap();
    let rows = vec![OwnershipRow {
        label: "p".into(),
        spans: vec![span(0.0, 5.0, Some("zeta")), span(5.0, 10.0, Some("alpha"))],
        ..Default::default()
    }];
    let scene = ownership::scene("t", &rows, 10.0, &[]);
    let fills: Vec<_> = scene
        .ops
        .iter()
        .filter_map(|op| match op {
            render::Op::Rect { x0, color, fill: true, .. } if *color == palette(0) || *color == palette(1) => {
                Some((*x0, *color))
            }
            _ => None,
        })
        .collect();
    // The "zeta" span starts at x=0 and must get the second colour.
    let zeta = fills.iter().min_by_key(|(x, _)| *x).unwrap();
    assert_eq!(zeta.1, palette(1));
}

#[test]
fn bar_chart_variants() {
    let (cats, groups) = sample_bars();
    let ragged = vec![
        BarGroup { label: "short".into(), values: vec![1.0], ..Default::default() },
        BarGroup { label: "long".into(), values: vec![1.0, f64::NAN, 3.0, 4.0, 5.0], ..Default::default() },
        BarGroup { label: "neg".into(), values: vec![-2.0, -1.0, 0.5], ..Default::default() },
    ];
    let zeros = vec![BarGroup { label: "z".into(), values: vec![0.0, 0.0, 0.0], ..Default::default() }];
    let many_groups: Vec<BarGroup> = (0..25)
        .map(|i| BarGroup { label: format!("group {i}"), values: vec![i as f64; 3], ..Default::default() })
        .collect();
    let cases: Vec<(&str, Vec<String>, Vec<BarGroup>)> = vec![
        ("normal", cats.clone(), groups.clone()),
        ("ragged", cats.clone(), ragged),
        ("zeros", cats.clone(), zeros),
        ("many", cats.clone(), many_groups),
        ("no-cats", vec![], groups.clone()),
        ("no-groups", cats.clone(), vec![]),
        ("nothing", vec![], vec![]),
    ];
    for (name, c, g) in cases {
        assert_renders(name, |png, svg| bar_chart(png, svg, name, "ms", &c, &g));
    }
}

#[test]
fn other_png_extension_and_missing_dirs() {
    let d = TempDir::new("ext");
    let png = d.path("nested/dir/chart.img");
    let svg = d.path("other/chart.svg");
    let (cats, groups) = sample_bars();
    bar_chart(&png, &svg, "t", "ms", &cats, &groups).unwrap();
    assert_eq!(&read(&png)[..8], b"\x89PNG\r\n\x1a\n");
    assert!(!d.path("nested/dir/chart.img.tmp.png").exists());
}

#[test]
fn big_inputs_render() {
    let series: Vec<Series> = (0..20)
        .map(|k| {
            s(
                &format!("series {k}"),
                (0..10_000).map(|i| (i as f64 * 0.1, ((i * (k + 7)) % 1000) as f64 + k as f64 * 50.0)).collect(),
            )
        })
        .collect();
    let markers: Vec<Marker> = (0..100).map(|i| m(i as f64 * 10.0, "rebalance")).collect();
    let d = TempDir::new("big");
    // How long it takes is a benchmark's question, not a test's (a loaded machine would fail it).
    line_chart(&d.path("big.png"), &d.path("big.svg"), "big", "t", "v", &series, &markers).unwrap();
    assert_eq!(&read(&d.path("big.png"))[..8], b"\x89PNG\r\n\x1a\n");
}

/// Writes sample charts to $KAFKASIM_CHART_SAMPLES (if set) for a visual check.
#[test]
fn write_samples_if_asked() {
    let Some(dir) = std::env::var_os("KAFKASIM_CHART_SAMPLES") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let (series, markers) = (sample_series(), sample_markers());
    line_chart(
        &dir.join("line.png"),
        &dir.join("line.svg"),
        "Consumer lag",
        "virtual time (s)",
        "messages",
        &series,
        &markers,
    )
    .unwrap();
    ownership_chart(&dir.join("own.png"), &dir.join("own.svg"), "Partition ownership", &sample_rows(), 300.0, &markers)
        .unwrap();
    let crowded: Vec<Marker> = (0..60).map(|i| m((i / 4) as f64 * 7.0, &format!("rebalance gen {i}"))).collect();
    line_chart(
        &dir.join("crowded.png"),
        &dir.join("crowded.svg"),
        "Crowded markers, tiny values",
        "virtual time (s)",
        "ratio",
        &[s("r", (0..50).map(|i| (i as f64 * 2.0, i as f64 * 1e-4)).collect())],
        &crowded,
    )
    .unwrap();
    line_chart(&dir.join("empty.png"), &dir.join("empty.svg"), "Empty", "x", "y", &[], &[m(0.5, "lonely")]).unwrap();
    let rows: Vec<OwnershipRow> = (0..40)
        .map(|p| OwnershipRow {
            label: format!("payments-{p}"),
            spans: vec![
                span(0.0, 50.0 + p as f64, Some(&format!("consumer-{}", p % 14))),
                span(60.0 + p as f64, 200.0, Some(&format!("consumer-{}", (p + 3) % 14))),
            ],
            ..Default::default()
        })
        .collect();
    ownership_chart(&dir.join("own40.png"), &dir.join("own40.svg"), "40 partitions", &rows, 200.0, &markers).unwrap();
    let negative = vec![
        BarGroup { label: "delta".into(), values: vec![-12.5, 3.0, 40_000.0], ..Default::default() },
        BarGroup { label: "other".into(), values: vec![2.0, f64::NAN, -1_500.0], ..Default::default() },
    ];
    let cats3 = ["a", "b", "c"].map(String::from).to_vec();
    bar_chart(&dir.join("barneg.png"), &dir.join("barneg.svg"), "Negative bars", "change", &cats3, &negative).unwrap();
    let (cats, groups) = sample_bars();
    bar_chart(&dir.join("bar.png"), &dir.join("bar.svg"), "End-to-end latency", "ms", &cats, &groups).unwrap();
}

#[test]
fn extreme_sizes_do_not_panic() {
    let cats: Vec<String> = (0..3_000).map(|i| format!("c{i}")).collect();
    let groups =
        vec![BarGroup { label: "g".into(), values: (0..3_000).map(|i| i as f64).collect(), ..Default::default() }];
    assert_renders("many-cats", |png, svg| bar_chart(png, svg, "many", "", &cats, &groups));
    let rows: Vec<OwnershipRow> = (0..100)
        .map(|p| OwnershipRow {
            label: format!("t-{p}"),
            spans: vec![span(0.0, 5.0, Some(&format!("c-{}", p % 50)))],
            ..Default::default()
        })
        .collect();
    let markers: Vec<Marker> = (0..2_000).map(|i| m(i as f64 * 0.005, "x")).collect();
    assert_renders("many-rows", |png, svg| ownership_chart(png, svg, "many", &rows, 10.0, &markers));
}

/// FNV-1a, 64 bits: a dependency-free fingerprint for golden outputs.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Cross-machine check: these fingerprints were taken on the machine that
/// wrote this module; any machine must reproduce them bit for bit. If a
/// deliberate change (of this code or of a locked plotters / image / png /
/// miniz_oxide version) alters the output, look at the new charts and update
/// the constants from this test's failure message.
#[test]
fn golden_outputs() {
    ensure_font().unwrap();
    // With plotters' "ttf" feature enabled anywhere in the build, plotters
    // ignores the registered font and uses system fonts.
    assert_eq!(
        render::text_width("kafkasim 0123456789", 100.0),
        958,
        "text is not measured with the embedded DejaVu Sans: is plotters' \
         \"ttf\" feature enabled somewhere in the dependency graph?"
    );
    let d = TempDir::new("golden");
    let (series, markers) = (sample_series(), sample_markers());
    line_chart(&d.path("l.png"), &d.path("l.svg"), "Consumer lag", "virtual time (s)", "messages", &series, &markers)
        .unwrap();
    ownership_chart(&d.path("o.png"), &d.path("o.svg"), "Partition ownership", &sample_rows(), 300.0, &markers)
        .unwrap();
    let (cats, groups) = sample_bars();
    bar_chart(&d.path("b.png"), &d.path("b.svg"), "End-to-end latency", "ms", &cats, &groups).unwrap();
    let expected = [
        ("l.png", 0x0b1a_d5ec_4a99_e7c5u64),
        ("l.svg", 0x0326_fa8b_e1a6_6c67),
        ("o.png", 0x553e_75a0_e20c_6727),
        ("o.svg", 0x86b4_8266_41ac_d039),
        ("b.png", 0x3841_33a9_3f1a_972c),
        ("b.svg", 0xd3c0_8316_ac75_41c3),
    ];
    let actual: Vec<(&str, u64)> = expected.iter().map(|(f, _)| (*f, fnv1a(&read(&d.path(f))))).collect();
    let report: Vec<String> = actual.iter().map(|(f, h)| format!("(\"{f}\", {h:#018x})")).collect();
    assert!(
        actual.iter().zip(&expected).all(|(a, e)| a.1 == e.1),
        "chart output changed; new fingerprints: {}",
        report.join(", ")
    );
}

fn texts(scene: &Scene) -> Vec<(i32, i32, String, f64)> {
    scene
        .ops
        .iter()
        .filter_map(|op| match op {
            render::Op::Text { x, y, text, size, .. } => Some((*x, *y, text.clone(), *size)),
            _ => None,
        })
        .collect()
}

#[test]
fn coinciding_lines_are_named_and_both_drawn() {
    ensure_font().unwrap();
    let pts: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, (i % 7) as f64 * 10.0)).collect();
    let series = vec![
        s("sub-a", pts.clone()),
        s("sub-b", pts.clone()),
        s("sub-c", pts),
        s("other", vec![(0.0, 1.0), (99.0, 5.0)]),
    ];
    let scene = line::scene(&LineChart { title: "t", series: &series, ..Default::default() });
    let labels: Vec<String> = texts(&scene).into_iter().map(|t| t.2).collect();
    assert!(labels.iter().any(|l| l == "sub-b (same as sub-a)"), "{labels:?}");
    assert!(labels.iter().any(|l| l == "sub-c (same as sub-a)"), "{labels:?}");
    assert!(labels.iter().any(|l| l == "other"));
    // Every copy keeps visible pixels of its own colour on the shared line.
    let rgb = render_rgb(&scene);
    for i in 0..3 {
        let c = palette(i);
        let n = count_pixels(&rgb, |r, g, b| (r, g, b) == (c.0, c.1, c.2));
        assert!(n > 200, "series {i} hidden: {n} pixels");
    }
    // Lines that run together over most of their length are sliced too, and say so.
    let a: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 5.0 + (i % 7) as f64)).collect();
    let mut b = a.clone();
    b[90].1 = 50.0;
    let series = vec![s("g1: backlog", a), s("g2: backlog", b)];
    let scene = line::scene(&LineChart { title: "t", series: &series, ..Default::default() });
    assert!(texts(&scene).iter().any(|t| t.2 == "g2: backlog (partly same as g1)"), "{:?}", texts(&scene));
    // A label too wide for the legend goes on two lines, not cut before the line it names.
    let a: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, 5.0 + (i % 7) as f64)).collect();
    let long = |g: &str| format!("pull {g}: backlog on the broker, records not yet read");
    let series = vec![s(&long("unbounded"), a.clone()), s(&long("drop"), a)];
    let scene = line::scene(&LineChart { title: "t", series: &series, ..Default::default() });
    let shown: Vec<String> = texts(&scene).into_iter().map(|t| t.2).collect();
    let i = shown.iter().position(|t| t.starts_with("pull drop: backlog")).expect("the entry");
    let both = format!("{} {}", shown[i], shown[i + 1]);
    assert_eq!(both, format!("{} (same as pull unbounded)", long("drop")), "{shown:?}");
    assert!(!both.contains('…'), "{shown:?}");
}

#[test]
fn many_series_stay_distinguishable() {
    // By colour alone: a line's dash pattern is never used to tell series apart.
    let colours: std::collections::BTreeSet<(u8, u8, u8)> = (0..80).map(palette).map(|c| (c.0, c.1, c.2)).collect();
    assert_eq!(colours.len(), 80, "two of 80 slots share a colour");
    let series: Vec<Series> = (0..45)
        .map(|i| Series {
            label: format!("g{i}"),
            points: vec![(0.0, i as f64), (1.0, i as f64 + 1.0)],
            ..Default::default()
        })
        .collect();
    let scene = line::scene(&LineChart { title: "t", series: &series, ..Default::default() });
    // A solid line is one path; a dashed one would be one per dash.
    let lines = scene.ops.iter().filter(|op| matches!(op, render::Op::Path { width: 2, .. })).count();
    assert_eq!(lines, 45, "slots past 20 are drawn solid");
    // Slots given by the caller win over list order: the same group keeps its colour.
    let series =
        vec![Series { label: "b".into(), points: vec![(0.0, 1.0), (1.0, 2.0)], color: Some(5), ..Default::default() }];
    let rgb = render_rgb(&line::scene(&LineChart { title: "t", series: &series, ..Default::default() }));
    let c = palette(5);
    assert!(count_pixels(&rgb, |r, g, b| (r, g, b) == (c.0, c.1, c.2)) > 50);
}

#[test]
fn marker_numbers_never_overlap_and_are_listed() {
    ensure_font().unwrap();
    let markers: Vec<Marker> = (0..80).map(|i| m(i as f64 * 0.13, &format!("consumer c{i} crashed"))).collect();
    let series = vec![s("a", vec![(0.0, 1.0), (10.0, 2.0)])];
    let scene = line::scene(&LineChart { title: "t", series: &series, markers: &markers, ..Default::default() });
    let numbers: Vec<(i32, i32, String, f64)> =
        texts(&scene).into_iter().filter(|t| t.3 == render::MARKER_SIZE && t.2.parse::<u32>().is_ok()).collect();
    assert!(numbers.len() >= 20, "only {} numbered", numbers.len());
    for (i, a) in numbers.iter().enumerate() {
        for b in &numbers[i + 1..] {
            if a.1 == b.1 {
                let (wa, wb) = (render::text_width(&a.2, a.3), render::text_width(&b.2, b.3));
                assert!(a.0 + wa <= b.0 || b.0 + wb <= a.0, "numbers {} and {} overlap", a.2, b.2);
            }
        }
    }
    let list: Vec<String> = texts(&scene).into_iter().map(|t| t.2).filter(|t| t.contains("crashed")).collect();
    assert_eq!(list.len(), numbers.len(), "every number is explained under the chart");
    assert!(list[0].starts_with("1  0 s  consumer c0 crashed"), "{}", list[0]);
    assert!(texts(&scene).iter().any(|t| t.2.starts_with('+') && t.2.contains("not numbered")));
}

#[test]
fn caller_numbers_are_kept_and_listed_in_order() {
    ensure_font().unwrap();
    let n = |x: f64, label: &str, number: usize| Marker { x, label: label.into(), number: Some(number) };
    // As one chart of a run sees its share of the run's numbered events: 1, 2 and 8 are not on
    // it, 4 to 6 fall on one pixel, and 5 is two events at one instant.
    let markers = vec![
        n(30.0, "c2 crashed", 3),
        n(60.0, "g rebalanced (gen 2)", 4),
        n(60.0, "c2 fenced (session timeout)", 5),
        n(60.0, "g rebalanced (gen 3)", 5),
        n(60.0, "c3 crashed", 6),
        n(90.0, "c1 poll timeout", 7),
        Marker { x: 95.0, label: "unnumbered".into(), number: None },
    ];
    let series = vec![s("a", vec![(0.0, 1.0), (100.0, 2.0)])];
    let scene = line::scene(&LineChart { title: "t", series: &series, markers: &markers, ..Default::default() });
    let numbers: Vec<String> =
        texts(&scene).into_iter().filter(|t| t.3 == render::MARKER_SIZE && !t.2.contains("  ")).map(|t| t.2).collect();
    assert_eq!(numbers, ["3", "4–6", "7"]);
    let list: Vec<String> = texts(&scene).into_iter().map(|t| t.2).filter(|t| t.contains("  ")).collect();
    assert_eq!(
        list,
        [
            "3  30 s  c2 crashed",
            "4  60 s  g rebalanced (gen 2)",
            "5  60 s  c2 fenced (session timeout); g rebalanced (gen 3)",
            "6  60 s  c3 crashed",
            "7  90 s  c1 poll timeout",
        ]
    );
    // Without caller numbers the chart counts from 1 itself.
    let own: Vec<Marker> = markers.iter().map(|m| Marker { number: None, ..m.clone() }).collect();
    let scene = line::scene(&LineChart { title: "t", series: &series, markers: &own, ..Default::default() });
    assert!(texts(&scene).iter().any(|t| t.2 == "1  30 s  c2 crashed"), "{:?}", texts(&scene));
}

#[test]
fn empty_charts_say_so_in_words() {
    ensure_font().unwrap();
    let zeros = vec![s("drops", (0..10).map(|i| (i as f64, 0.0)).collect())];
    let note = "No records were dropped.";
    let scene = line::scene(&LineChart { title: "t", series: &zeros, empty_note: Some(note), ..Default::default() });
    let t: Vec<String> = texts(&scene).into_iter().map(|t| t.2).collect();
    assert!(t.contains(&note.to_string()), "{t:?}");
    assert!(!t.contains(&"0".to_string()), "empty axes drawn: {t:?}");
}

#[test]
fn standby_rows_show_their_note() {
    ensure_font().unwrap();
    let rows = vec![
        OwnershipRow { label: "t-0".into(), spans: vec![span(0.0, 10.0, Some("c1"))], ..Default::default() },
        OwnershipRow { label: "c2".into(), note: Some("c2: standby".into()), color: Some(3), ..Default::default() },
    ];
    let scene = ownership::scene("t", &rows, 10.0, &[]);
    assert!(texts(&scene).iter().any(|t| t.2 == "c2: standby"));
}

/// `n` rows of every kind of span (unowned, down, slotted, in a handover) and a standby row.
fn mixed_rows(n: usize) -> Vec<OwnershipRow> {
    let mut rows: Vec<OwnershipRow> = (0..n)
        .map(|p| OwnershipRow {
            label: format!("g{}: t-{p}", p % 3),
            spans: vec![
                span(0.0, 1.0, None),
                Span { faded: p % 5 == 0, ..span(1.0, 6.0, Some(&format!("c-{}", p % 7))) },
                Span {
                    color: (p % 11 == 0).then_some(p % 3),
                    handover: if p % 13 == 0 { Handover::Revoking(2) } else { Handover::None },
                    ..span(6.0, 10.0, Some(&format!("c-{}", (p + 1) % 7)))
                },
            ],
            ..Default::default()
        })
        .collect();
    rows.push(OwnershipRow {
        label: "c-9".into(),
        note: Some("c-9: standby".into()),
        color: Some(9),
        legend: Some("c-9 (standby)".into()),
        ..Default::default()
    });
    rows
}

/// Rows given as a stream, of which only the drawn ones are kept, draw the same files as the
/// same rows held at once: rows thinner than a pixel (40,000) and rows of many pixels (40).
#[test]
fn streamed_rows_draw_what_held_rows_draw() {
    ensure_font().unwrap();
    let markers = sample_markers();
    for n in [40, 40_000] {
        let d = TempDir::new("streamed");
        ownership_chart(&d.path("a.png"), &d.path("a.svg"), "t", &mixed_rows(n), 10.0, &markers).unwrap();
        let mut facts = RowFacts::default();
        mixed_rows(n).into_iter().for_each(|r| facts.put(r));
        assert_eq!(facts.rows(), n + 1);
        assert!(facts.any_down() && facts.any_handover());
        // Rows not wanted are skipped, as the run's chart skips them.
        let (mut made, mut skipped) = (0, 0);
        let each = |sink: &mut dyn RowSink| {
            for r in mixed_rows(n) {
                if sink.wants() {
                    made += 1;
                    sink.put(r);
                } else {
                    skipped += 1;
                    sink.skip();
                }
            }
        };
        ownership_chart_streamed(&d.path("b.png"), &d.path("b.svg"), "t", &facts, each, 10.0, &markers).unwrap();
        for f in ["png", "svg"] {
            let read = |name: &str| std::fs::read(d.path(&format!("{name}.{f}"))).unwrap();
            assert!(read("a") == read("b"), "{n} rows: the {f} files differ");
        }
        assert_eq!(made + skipped, n + 1);
        if n > 16_000 {
            assert!(made <= 16_000 && skipped > 0, "{made} rows made for a chart of at most 16,000 pixels");
        } else {
            assert_eq!(skipped, 0, "every row of a few pixels or more is drawn");
        }
    }
}
