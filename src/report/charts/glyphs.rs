//! Left side bearings of the embedded font's glyphs.
//!
//! plotters' ab_glyph text renderer places each glyph's ink box at the pen
//! position, dropping the glyph's left side bearing, so "120" comes out as
//! "1 20". The PNG painter therefore draws glyph by glyph and adds the
//! bearing back; this module reads it from the font's `cmap`, `loca` and
//! `glyf` tables, scaled the way ab_glyph scales (pixel size over
//! ascent - descent), with f32 arithmetic like ab_glyph.

use std::sync::OnceLock;

use super::render::DEJAVU_SANS;

struct Tables {
    /// ascent - descent in font units (ab_glyph's unscaled height).
    height: f32,
    units_per_em: f32,
    /// Offset of a format 12 `cmap` subtable.
    cmap12: usize,
    loca: usize,
    loca_long: bool,
    glyf: usize,
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn i16_at(d: &[u8], at: usize) -> Option<i16> {
    u16_at(d, at).map(|v| v as i16)
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*d.get(at)?, *d.get(at + 1)?, *d.get(at + 2)?, *d.get(at + 3)?]))
}

fn parse(d: &[u8]) -> Option<Tables> {
    let num_tables = u16_at(d, 4)? as usize;
    let table = |tag: &[u8; 4]| -> Option<usize> {
        (0..num_tables)
            .map(|i| 12 + 16 * i)
            .find(|&rec| d.get(rec..rec + 4) == Some(&tag[..]))
            .and_then(|rec| u32_at(d, rec + 8))
            .map(|off| off as usize)
    };
    let (head, hhea, cmap) = (table(b"head")?, table(b"hhea")?, table(b"cmap")?);
    // Same choice as ttf-parser: OS/2 typographic metrics if USE_TYPO_METRICS.
    let typo = table(b"OS/2").filter(|&os2| u16_at(d, os2 + 62).is_some_and(|f| f & 0x80 != 0));
    let (asc, desc) = match typo {
        Some(os2) => (i16_at(d, os2 + 68)?, i16_at(d, os2 + 70)?),
        None => (i16_at(d, hhea + 4)?, i16_at(d, hhea + 6)?),
    };
    let subtables = u16_at(d, cmap + 2)? as usize;
    let cmap12 = (0..subtables).find_map(|i| {
        let rec = cmap + 4 + 8 * i;
        let (platform, encoding) = (u16_at(d, rec)?, u16_at(d, rec + 2)?);
        let sub = cmap + u32_at(d, rec + 4)? as usize;
        let unicode = platform == 0 || (platform == 3 && encoding == 10);
        (unicode && u16_at(d, sub)? == 12).then_some(sub)
    })?;
    Some(Tables {
        height: f32::from(asc) - f32::from(desc),
        units_per_em: f32::from(u16_at(d, head + 18)?),
        cmap12,
        loca: table(b"loca")?,
        loca_long: i16_at(d, head + 50)? == 1,
        glyf: table(b"glyf")?,
    })
}

impl Tables {
    fn glyph_id(&self, d: &[u8], c: char) -> Option<u32> {
        let c = c as u32;
        let groups = u32_at(d, self.cmap12 + 12)? as usize;
        let (mut lo, mut hi) = (0usize, groups);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let g = self.cmap12 + 16 + 12 * mid;
            let (start, end) = (u32_at(d, g)?, u32_at(d, g + 4)?);
            if c < start {
                hi = mid;
            } else if c > end {
                lo = mid + 1;
            } else {
                return Some(u32_at(d, g + 8)? + (c - start));
            }
        }
        None
    }

    fn x_min(&self, d: &[u8], gid: u32) -> Option<i16> {
        let gid = gid as usize;
        let (start, end) = if self.loca_long {
            (u32_at(d, self.loca + 4 * gid)? as usize, u32_at(d, self.loca + 4 * gid + 4)? as usize)
        } else {
            (u16_at(d, self.loca + 2 * gid)? as usize * 2, u16_at(d, self.loca + 2 * gid + 2)? as usize * 2)
        };
        if end <= start {
            return None; // no outline (e.g. space)
        }
        i16_at(d, self.glyf + start + 2)
    }
}

fn tables() -> Option<&'static Tables> {
    static TABLES: OnceLock<Option<Tables>> = OnceLock::new();
    TABLES.get_or_init(|| parse(DEJAVU_SANS).filter(|t| t.height > 0.0 && t.units_per_em > 0.0)).as_ref()
}

/// Pixel offset from the pen position to the left edge of `c`'s ink box, as
/// ab_glyph rounds it, for text of plotters size `size`.
pub(super) fn bearing_px(c: char, size: f64) -> i32 {
    let Some(t) = tables() else {
        return 0;
    };
    let x_min = t.glyph_id(DEJAVU_SANS, c).and_then(|g| t.x_min(DEJAVU_SANS, g)).unwrap_or(0);
    let factor = size as f32 / t.height;
    (f32::from(x_min) * factor).floor() as i32
}

/// The em size ab_glyph draws with, per plotters size unit
/// (units per em over ascent - descent).
pub(super) fn em_per_size() -> f64 {
    tables().map_or(0.86, |t| f64::from(t.units_per_em / t.height))
}
