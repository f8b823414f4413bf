//! A picture of a ring at one instant: peers on a circle by identifier,
//! successor pointers as arrows, branch peers drawn inside the circle with
//! their roots ringed, partition groups in colours, and the key ranges with
//! two or more responsible peers marked outside the circle.

use crate::plot::{PALETTE, Picture, plot_error, save_picture};
use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::f64::consts::TAU;
use std::path::Path;

/// A peer's role in the picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// On the core ring.
    Core,
    /// Skipped by a predecessor's successor pointer: hangs in a branch.
    Branch,
    /// The peer a branch hangs from.
    Root,
    /// Alive but not (yet) a member.
    Joining,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PeerMark {
    /// The identifier as a share of the identifier space, in [0, 1).
    pub position: f64,
    pub role: Role,
    /// The partition group (colour).
    pub group: usize,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RingPicture {
    pub title: String,
    /// A line under the title (counts, time).
    pub subtitle: String,
    pub peers: Vec<PeerMark>,
    /// Successor pointers: (from, to) as indices into `peers`.
    pub successors: Vec<(usize, usize)>,
    /// Key ranges with two or more responsible peers: (from, to) shares.
    pub inconsistent: Vec<(f64, f64)>,
}

const SIZE: (u32, u32) = (900, 960);

impl RingPicture {
    /// Writes `stem.svg` and `stem.png`.
    pub fn save(&self, stem: &Path) -> Result<()> {
        save_picture(stem, SIZE, self)
    }
}

/// A point at `share` around the circle (clockwise from the top) at `radius`.
fn at(center: (f64, f64), radius: f64, share: f64) -> (i32, i32) {
    let angle = share * TAU;
    ((center.0 + radius * angle.sin()).round() as i32, (center.1 - radius * angle.cos()).round() as i32)
}

impl Picture for RingPicture {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()> {
        let (width, height) = area.dim_in_pixel();
        let text = |size: i32| TextStyle::from(("sans-serif", size).into_font()).color(&BLACK);
        area.draw(&Text::new(self.title.clone(), (20, 14), text(22))).map_err(plot_error)?;
        area.draw(&Text::new(self.subtitle.clone(), (20, 44), text(15))).map_err(plot_error)?;
        let center = (width as f64 / 2.0, 80.0 + (height as f64 - 160.0) / 2.0);
        let radius = (width as f64).min(height as f64 - 160.0) / 2.0 - 50.0;
        let circle: Vec<(i32, i32)> = (0..=360).map(|k| at(center, radius, k as f64 / 360.0)).collect();
        area.draw(&PathElement::new(circle, RGBColor(200, 200, 200).stroke_width(1))).map_err(plot_error)?;
        for (share, label) in [(0.0, "0"), (0.25, "1/4"), (0.5, "1/2"), (0.75, "3/4")] {
            let (x, y) = at(center, radius + 28.0, share);
            area.draw(&Text::new(label, (x - 10, y - 8), text(13))).map_err(plot_error)?;
        }
        let red = RGBColor(214, 39, 40);
        for &(from, to) in &self.inconsistent {
            let span = if to >= from { to - from } else { to + 1.0 - from };
            let steps = ((span * 720.0).ceil() as usize).max(2);
            let arc: Vec<(i32, i32)> =
                (0..=steps).map(|k| at(center, radius + 12.0, from + span * k as f64 / steps as f64)).collect();
            area.draw(&PathElement::new(arc, red.stroke_width(6))).map_err(plot_error)?;
        }
        let place = |peer: &PeerMark| {
            let r = match peer.role {
                Role::Branch => radius - 26.0,
                Role::Joining => radius - 48.0,
                Role::Core | Role::Root => radius,
            };
            at(center, r, peer.position)
        };
        let arrow_color = RGBColor(110, 110, 110);
        let many = self.peers.len() > 400;
        for &(from, to) in &self.successors {
            let (Some(a), Some(b)) = (self.peers.get(from), self.peers.get(to)) else { continue };
            let (p, q) = (place(a), place(b));
            area.draw(&PathElement::new(vec![p, q], arrow_color.stroke_width(1))).map_err(plot_error)?;
            if !many {
                // An arrow head, 7 pixels back along the line.
                let (dx, dy) = ((q.0 - p.0) as f64, (q.1 - p.1) as f64);
                let length = (dx * dx + dy * dy).sqrt().max(1e-9);
                let (ux, uy) = (dx / length, dy / length);
                for side in [-1.0, 1.0] {
                    let tip = (q.0 as f64 - 7.0 * ux + side * 3.5 * uy, q.1 as f64 - 7.0 * uy - side * 3.5 * ux);
                    area.draw(&PathElement::new(vec![q, (tip.0 as i32, tip.1 as i32)], arrow_color.stroke_width(1)))
                        .map_err(plot_error)?;
                }
            }
        }
        let dot = if many { 2 } else { 4 };
        for peer in &self.peers {
            let color = PALETTE[peer.group % PALETTE.len()];
            let p = place(peer);
            match peer.role {
                Role::Joining => area.draw(&Circle::new(p, dot, color.stroke_width(1))).map_err(plot_error)?,
                _ => area.draw(&Circle::new(p, dot, color.filled())).map_err(plot_error)?,
            }
            if peer.role == Role::Root {
                area.draw(&Circle::new(p, dot + 5, BLACK.stroke_width(2))).map_err(plot_error)?;
            }
        }
        let legend_y = height as i32 - 60;
        let items: [(&str, RGBColor); 4] = [
            ("peer (colour: partition group)", PALETTE[0]),
            ("branch peer (inside the circle)", PALETTE[0]),
            ("branch root (ringed)", BLACK),
            ("keys with 2+ responsible peers", red),
        ];
        for (k, (label, color)) in items.iter().enumerate() {
            let x = 20 + (k as i32 % 2) * 440;
            let y = legend_y + (k as i32 / 2) * 26;
            match k {
                2 => area.draw(&Circle::new((x + 8, y + 8), 8, color.stroke_width(2))).map_err(plot_error)?,
                3 => area
                    .draw(&PathElement::new(vec![(x, y + 8), (x + 18, y + 8)], color.stroke_width(6)))
                    .map_err(plot_error)?,
                _ => area.draw(&Circle::new((x + 8, y + 8), 5, color.filled())).map_err(plot_error)?,
            }
            area.draw(&Text::new(label.to_string(), (x + 26, y), text(15))).map_err(plot_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_picture_is_written_with_its_title_and_legend() {
        let peers = (0..6)
            .map(|k| PeerMark {
                position: k as f64 / 6.0,
                role: [Role::Core, Role::Branch, Role::Root, Role::Core, Role::Joining, Role::Core][k],
                group: k / 3,
            })
            .collect();
        let picture = RingPicture {
            title: "ring at 12 s".into(),
            subtitle: "6 peers".into(),
            peers,
            successors: vec![(0, 2), (1, 2), (2, 3), (3, 5), (5, 0)],
            inconsistent: vec![(0.9, 0.05)],
        };
        let dir = tempfile::tempdir().unwrap();
        picture.save(&dir.path().join("ring")).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("ring.svg")).unwrap();
        assert!(svg.contains("ring at 12 s") && svg.contains("branch root"));
        assert!(std::fs::read(dir.path().join("ring.png")).unwrap().starts_with(b"\x89PNG"));
    }
}
