//! The embedded font, a backend-independent list of drawing operations
//! (`Scene`), and its output to PNG and SVG files through plotters.
//!
//! Charts are laid out once into a `Scene` in integer pixel coordinates and
//! the same scene is then painted on both backends, so the PNG and the SVG
//! always show the same layout.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, OnceLock};

use anyhow::{Context, Result, anyhow};

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, FontTransform, register_font};

/// The family name every text of the charts is drawn with.
pub(super) const FONT_FAMILY: &str = "sans-serif";

/// DejaVu Sans, shipped with the project (see assets/fonts/LICENSE-DejaVu.txt).
pub(super) static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters' ab_glyph text renderer (once
/// per process). Every public chart function calls this before drawing.
pub(super) fn ensure_font() -> Result<()> {
    static ONCE: Once = Once::new();
    static OK: AtomicBool = AtomicBool::new(false);
    ONCE.call_once(|| {
        let ok = register_font(FONT_FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok();
        OK.store(ok, Ordering::SeqCst);
    });
    if OK.load(Ordering::SeqCst) { Ok(()) } else { Err(anyhow!("the embedded DejaVu Sans font could not be loaded")) }
}

/// An opaque colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn to_plotters(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

pub(super) const TEXT: Rgb = Rgb(34, 34, 34);
pub(super) const MUTED_TEXT: Rgb = Rgb(85, 85, 85);
pub(super) const GRID: Rgb = Rgb(230, 230, 230);
pub(super) const AXIS: Rgb = Rgb(110, 110, 110);
pub(super) const MARKER: Rgb = Rgb(180, 180, 180);
pub(super) const UNOWNED: Rgb = Rgb(222, 222, 222);
pub(super) const STRIPE: Rgb = Rgb(247, 247, 247);
pub(super) const WHITE_BG: Rgb = Rgb(255, 255, 255);

/// Fixed palette of 20 colours that stay apart on white; callers give each
/// group and consumer a fixed slot so it keeps its colour in every chart.
const PALETTE: [Rgb; 20] = [
    Rgb(31, 119, 180),  // blue
    Rgb(255, 127, 14),  // orange
    Rgb(44, 160, 44),   // green
    Rgb(214, 39, 40),   // red
    Rgb(148, 103, 189), // purple
    Rgb(140, 86, 75),   // brown
    Rgb(227, 119, 194), // pink
    Rgb(23, 190, 207),  // cyan
    Rgb(188, 189, 34),  // olive
    Rgb(57, 59, 121),   // navy
    Rgb(34, 34, 34),    // near black
    Rgb(174, 199, 232), // light blue
    Rgb(255, 187, 120), // light orange
    Rgb(152, 223, 138), // light green
    Rgb(255, 152, 150), // light red
    Rgb(197, 176, 213), // light purple
    Rgb(196, 156, 148), // light brown
    Rgb(247, 182, 210), // light pink
    Rgb(158, 218, 229), // light cyan
    Rgb(219, 219, 141), // light olive
];

/// The colour of palette slot `i`: the 20 colours, then the same 20 darker (slots 20 to 39),
/// darker still (40 to 59) and a little darker (60 to 79), so slots differ by colour alone.
pub(super) fn palette(i: usize) -> Rgb {
    let c = PALETTE[i % PALETTE.len()];
    let keep = match (i / PALETTE.len()) % PATTERNS {
        0 => return c,
        1 => 0.62,
        2 => 0.38,
        _ => 0.82,
    };
    let f = |v: u8| (f64::from(v) * keep).round() as u8;
    Rgb(f(c.0), f(c.1), f(c.2))
}

/// Number of distinct line / box patterns beside solid (see `dash_pattern`).
pub(super) const PATTERNS: usize = 4;

/// Box pattern of palette slot `i` (white bars; lines never use it): 0 (solid) for the first
/// 20 slots, then 1, 2, 3 for the next twenties, beside their darker shades.
pub(super) fn variant(i: usize) -> u8 {
    ((i / PALETTE.len()) % PATTERNS) as u8
}

/// (on, off) pixel lengths of line pattern `v` (0 = solid).
pub(super) fn dash_pattern(v: u8) -> Option<(f64, f64)> {
    match v % PATTERNS as u8 {
        0 => None,
        1 => Some((10.0, 5.0)),
        2 => Some((3.0, 4.0)),
        _ => Some((18.0, 6.0)),
    }
}

/// `c` mixed with white: `keep` of the colour stays (faded spans).
pub(super) fn faded(c: Rgb, keep: f64) -> Rgb {
    let f = |v: u8| (255.0 - (255.0 - f64::from(v)) * keep).round().clamp(0.0, 255.0) as u8;
    Rgb(f(c.0), f(c.1), f(c.2))
}

/// Font sizes (plotters "size" units: pixel height of the font's line).
pub(super) const TITLE_SIZE: f64 = 22.0;
pub(super) const LABEL_SIZE: f64 = 15.0;
pub(super) const TICK_SIZE: f64 = 13.0;
pub(super) const LEGEND_SIZE: f64 = 13.0;
pub(super) const MARKER_SIZE: f64 = 12.0;
pub(super) const VALUE_SIZE: f64 = 11.0;

/// The embedded font, parsed once. Text on the PNG charts is laid out and
/// rasterised with it directly through ab_glyph (advances, kerning and each
/// glyph's own bearings), not through plotters' text drawing, which drops
/// left side bearings ("120" came out as "1 20").
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).ok()).as_ref()
}

/// plotters' "size" is the height of the font's line (ascent - descent), which
/// is exactly ab_glyph's `PxScale`.
fn scale(size: f64) -> PxScale {
    PxScale::from(size as f32)
}

/// Pen positions (pixels from the start of the line) of each glyph of `text`,
/// with the line's total advance width.
fn layout(text: &str, size: f64) -> (Vec<(GlyphId, f32)>, f32) {
    let Some(font) = font() else {
        return (Vec::new(), text.chars().count() as f32 * size as f32 * 0.6);
    };
    let scaled = font.as_scaled(scale(size));
    let mut pen = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        out.push((id, pen));
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    (out, pen)
}

/// Width in pixels of `text` drawn at `size` with the embedded font.
pub(super) fn text_width(text: &str, size: f64) -> i32 {
    let w = advance(text, size);
    if w.is_finite() { w.round().min(100_000.0) as i32 } else { 0 }
}

/// `layout`'s pen position after `text`, the same sums in the same order, without placing the
/// glyphs (3 million row labels are measured in a huge world's ownership chart).
fn advance(text: &str, size: f64) -> f32 {
    let Some(font) = font() else {
        return text.chars().count() as f32 * size as f32 * 0.6;
    };
    let scaled = font.as_scaled(scale(size));
    let mut pen = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    pen
}

/// The em size of the font per plotters size unit (units per em over
/// ascent - descent): the SVG's font-size, so its text matches the PNG's.
fn em_per_size() -> f64 {
    font()
        .and_then(|f| {
            let height = f.ascent_unscaled() - f.descent_unscaled();
            f.units_per_em().filter(|_| height > 0.0).map(|em| f64::from(em / height))
        })
        .unwrap_or(0.86)
}

/// Rasterises `text` into the bitmap: anchored on `x` by `align`, vertically
/// centred on `y` (or, when `vertical`, reading bottom-up, centred on `x`).
#[allow(clippy::too_many_arguments)]
fn draw_glyphs<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    text: &str,
    size: f64,
    color: Rgb,
    align: HPos,
    vertical: bool,
) -> Result<()> {
    let Some(font) = font() else { return Ok(()) };
    let scaled = font.as_scaled(scale(size));
    let (glyphs, width) = layout(text, size);
    let start = match align {
        HPos::Left => 0.0,
        HPos::Center => -width / 2.0,
        HPos::Right => -width,
    };
    // The baseline sits so that the line box (ascent over descent) is centred.
    let baseline = (scaled.ascent() + scaled.descent()) / 2.0;
    let c = color.to_plotters();
    let mut failed = None;
    for (id, pen) in glyphs {
        let glyph = id.with_scale_and_position(scale(size), point(start + pen, baseline));
        let Some(outline) = font.outline_glyph(glyph) else { continue };
        let b = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            if coverage <= 0.0 || failed.is_some() {
                return;
            }
            let (u, v) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
            let at = if vertical { (x + v, y - u) } else { (x + u, y + v) };
            let px = c.mix(f64::from(coverage.min(1.0)));
            if let Err(e) = root.draw_pixel(at, &px) {
                failed = Some(draw_err(e));
            }
        });
    }
    failed.map_or(Ok(()), Err)
}

/// `text` with control characters replaced, cut to `max_chars` characters and
/// to `max_width` pixels, with an ellipsis where it was cut. May be empty.
pub(super) fn fit_text(text: &str, size: f64, max_width: i32, max_chars: usize) -> String {
    let clean: Vec<char> = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut keep = clean.len().min(max_chars);
    loop {
        let mut s: String = clean[..keep].iter().collect();
        if keep < clean.len() {
            s = s.trim_end().to_string();
            s.push('…');
        }
        if text_width(&s, size) <= max_width {
            return s;
        }
        if keep == 0 {
            return String::new();
        }
        keep -= 1;
    }
}

/// One drawing operation in pixel coordinates.
#[derive(Clone)]
pub(super) enum Op {
    Rect {
        x0: i32,
        y0: i32,
        x1: i32,
        y1: i32,
        color: Rgb,
        fill: bool,
    },
    Path {
        pts: Vec<(i32, i32)>,
        color: Rgb,
        width: u32,
    },
    /// Text vertically centred on `y` (or, when `vertical`, read bottom-up and
    /// centred on `x`), aligned on `x` by `align`.
    Text {
        x: i32,
        y: i32,
        text: String,
        size: f64,
        color: Rgb,
        align: HPos,
        vertical: bool,
    },
}

/// A chart laid out in pixels, ready to be written in any format.
#[derive(Clone)]
pub(super) struct Scene {
    pub width: u32,
    pub height: u32,
    pub ops: Vec<Op>,
}

impl Scene {
    pub fn new(width: u32, height: u32) -> Self {
        Scene { width, height, ops: Vec::new() }
    }

    pub fn fill_rect(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, color: Rgb) {
        self.ops.push(Op::Rect { x0, y0, x1, y1, color, fill: true });
    }

    pub fn outline_rect(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, color: Rgb) {
        self.ops.push(Op::Rect { x0, y0, x1, y1, color, fill: false });
    }

    pub fn line(&mut self, a: (i32, i32), b: (i32, i32), color: Rgb) {
        self.path(vec![a, b], color, 1);
    }

    pub fn path(&mut self, pts: Vec<(i32, i32)>, color: Rgb, width: u32) {
        if pts.len() >= 2 {
            self.ops.push(Op::Path { pts, color, width });
        }
    }

    /// A polyline drawn only where the distance along it, taken modulo
    /// `on + off` after adding `phase`, is below `on`: a dash pattern.
    pub fn dashed_path(&mut self, pts: &[(i32, i32)], color: Rgb, width: u32, on: f64, off: f64, phase: f64) {
        let period = on + off;
        if !(period > 0.0 && on > 0.0) {
            return;
        }
        let mut dist = phase;
        for seg in pts.windows(2) {
            let (a, b) = ((seg[0].0 as f64, seg[0].1 as f64), (seg[1].0 as f64, seg[1].1 as f64));
            let len = ((b.0 - a.0) * (b.0 - a.0) + (b.1 - a.1) * (b.1 - a.1)).sqrt();
            if len == 0.0 {
                continue;
            }
            let mut t = 0.0;
            while t < len {
                let pos = (dist + t) % period;
                let (drawing, left) = if pos < on { (true, on - pos) } else { (false, period - pos) };
                let t1 = (t + left).min(len);
                if drawing {
                    let at = |u: f64| {
                        ((a.0 + (b.0 - a.0) * u / len).round() as i32, (a.1 + (b.1 - a.1) * u / len).round() as i32)
                    };
                    let (p, q) = (at(t), at(t1));
                    if p != q {
                        self.path(vec![p, q], color, width);
                    } else {
                        self.fill_rect(p.0, p.1, p.0, p.1, color);
                    }
                }
                t = t1;
            }
            dist += len;
        }
    }

    pub fn text(&mut self, x: i32, y: i32, text: &str, size: f64, color: Rgb, align: HPos) {
        if !text.is_empty() {
            self.ops.push(Op::Text { x, y, text: text.to_string(), size, color, align, vertical: false });
        }
    }

    pub fn vertical_text(&mut self, x: i32, y: i32, text: &str, size: f64, color: Rgb) {
        if !text.is_empty() {
            self.ops.push(Op::Text { x, y, text: text.to_string(), size, color, align: HPos::Center, vertical: true });
        }
    }
}

fn draw_err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("chart drawing failed: {e}")
}

fn paint<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, scene: &Scene, bitmap: bool) -> Result<()> {
    root.fill(&WHITE).map_err(draw_err)?;
    for op in &scene.ops {
        match op {
            Op::Rect { x0, y0, x1, y1, color, fill } => {
                let style = ShapeStyle { color: color.to_plotters().to_rgba(), filled: *fill, stroke_width: 1 };
                root.draw(&Rectangle::new([(*x0, *y0), (*x1, *y1)], style)).map_err(draw_err)?;
            }
            Op::Path { pts, color, width } => {
                let style = ShapeStyle { color: color.to_plotters().to_rgba(), filled: false, stroke_width: *width };
                if bitmap && *width > 1 {
                    // plotters fills a wide polyline as one polygon, which
                    // misdraws zig-zags; draw it segment by segment instead.
                    for seg in pts.windows(2) {
                        root.draw(&PathElement::new(vec![seg[0], seg[1]], style)).map_err(draw_err)?;
                    }
                } else {
                    root.draw(&PathElement::new(pts.clone(), style)).map_err(draw_err)?;
                    if bitmap && pts.len() > 2 {
                        // plotters' 1 px line leaves out the last pixel of a rising segment:
                        // a line of short segments would come out dotted. Set each joint.
                        for &p in &pts[1..] {
                            root.draw_pixel(p, &color.to_plotters()).map_err(draw_err)?;
                        }
                    }
                }
            }
            Op::Text { x, y, text, size, color, align, vertical } => {
                if bitmap {
                    draw_glyphs(root, (*x, *y), text, *size, *color, *align, *vertical)?;
                    continue;
                }
                // The SVG backend writes font-size = size / 1.24; make that the
                // em size the PNG's glyphs get, so both show text alike.
                let font_size = size * 1.24 * em_per_size();
                let c = color.to_plotters();
                let mut style =
                    TextStyle::from((FONT_FAMILY, font_size).into_font()).color(&c).pos(Pos::new(*align, VPos::Center));
                if *vertical {
                    style = style.transform(FontTransform::Rotate270);
                }
                root.draw(&Text::new(text.as_str(), (*x, *y), style)).map_err(draw_err)?;
            }
        }
    }
    root.present().map_err(draw_err)?;
    Ok(())
}

fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating directory {}", dir.display()))?;
    }
    Ok(())
}

/// Writes `scene` as a PNG file and as an SVG file.
pub(super) fn write_files(scene: &Scene, png: &Path, svg: &Path) -> Result<()> {
    ensure_font()?;
    ensure_parent(png)?;
    ensure_parent(svg)?;
    let size = (scene.width, scene.height);

    // The image encoder picks the format from the extension: write through a
    // temporary ".png" name when the caller's name has another extension.
    let direct = png.extension().is_some_and(|e| e == "png");
    let target: PathBuf = if direct {
        png.to_path_buf()
    } else {
        let mut name = png.as_os_str().to_owned();
        name.push(".tmp.png");
        PathBuf::from(name)
    };
    {
        let root = BitMapBackend::new(&target, size).into_drawing_area();
        paint(&root, scene, true).with_context(|| format!("writing {}", png.display()))?;
    }
    if !direct {
        std::fs::rename(&target, png).with_context(|| format!("renaming {} to {}", target.display(), png.display()))?;
    }

    {
        let root = SVGBackend::new(svg, size).into_drawing_area();
        paint(&root, scene, false).with_context(|| format!("writing {}", svg.display()))?;
    }
    Ok(())
}

/// The scene painted exactly as for the PNG file, as raw RGB bytes.
#[cfg(test)]
pub(super) fn render_rgb(scene: &Scene) -> Vec<u8> {
    let mut buf = vec![0u8; scene.width as usize * scene.height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (scene.width, scene.height)).into_drawing_area();
        paint(&root, scene, true).expect("painting into a buffer");
    }
    buf
}
