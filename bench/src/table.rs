// Copyright (C) 2026 pixelmeet developers
// SPDX-License-Identifier: MPL-2.0

//! The tables the benchmark programs print: plain text aligned in columns, or Markdown for
//! BENCHMARKS.md.

/// A table; columns from `first_numeric` on are numbers and align right.
pub struct Table {
    pub markdown: bool,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub first_numeric: usize,
}

impl Table {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.markdown {
            let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
            out += &line(&self.header);
            let sep: Vec<String> = (0..self.header.len())
                .map(|i| {
                    if i >= self.first_numeric {
                        "---:"
                    } else {
                        "---"
                    }
                    .to_string()
                })
                .collect();
            out += &line(&sep);
            for r in &self.rows {
                out += &line(r);
            }
            return out;
        }
        let widths: Vec<usize> = (0..self.header.len())
            .map(|i| {
                self.rows
                    .iter()
                    .chain(std::iter::once(&self.header))
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for r in std::iter::once(&self.header).chain(&self.rows) {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, &w))| {
                    if i >= self.first_numeric {
                        format!("{c:>w$}")
                    } else {
                        format!("{c:<w$}")
                    }
                })
                .collect();
            out += cells.join("  ").trim_end();
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_render_in_both_styles() {
        let table = |markdown| Table {
            markdown,
            header: vec!["name".into(), "value".into()],
            rows: vec![vec!["a".into(), "1.5".into()]],
            first_numeric: 1,
        };
        assert_eq!(
            table(true).render(),
            "| name | value |\n| --- | ---: |\n| a | 1.5 |\n"
        );
        assert_eq!(table(false).render(), "name  value\na       1.5\n");
    }
}
