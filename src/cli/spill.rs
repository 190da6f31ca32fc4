//! Subjects kept on disk instead of in memory: a population run and a merge hand every
//! subject's metrics to a [`SubjectSpill`] as they come (a chunk or a shard at a time), which
//! writes them to two files in a [`Spill`] directory of the output directory: the subjects as
//! fixed-size binary records, and their summary columns as 8-byte values. At the end it writes
//! `population_subjects.csv` from the records, regimen after regimen, and gives back the
//! columns one at a time ([`SpilledColumns`]) for the summaries. Memory then holds one chunk and
//! one column of one regimen (8 bytes per subject), whatever the number of subjects; the CSV
//! joins the output set by a rename (`write::replace_set_moving`).
//!
//! The records are this program's own scratch format, read back by the same process: little
//! endian, [`RECORD_BYTES`] per subject, never kept after the run.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use k2sim::error::Error;
use k2sim::report::study::SubjectsCsv;
use k2sim::response::Marker;
use k2sim::study::population::SubjectMetrics;
use k2sim::study::summary::{SubjectColumn, SubjectFields};

use super::write::Spill;

/// The name of the file the spill writes.
pub const SUBJECTS_CSV: &str = "population_subjects.csv";

/// Bytes of a subject's record: 14 eight-byte numbers, the doses taken (4 bytes) and a byte of
/// flags saying which optional values are present.
pub const RECORD_BYTES: usize = 14 * 8 + 4 + 1;

/// Subjects read back per block when writing the CSV.
const BLOCK_SUBJECTS: usize = 4096;

fn spill_err(path: &Path) -> impl Fn(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Write {
        path: path.clone(),
        source,
    }
}

/// A byte range of a spill file: (offset, length).
type Piece = (u64, u64);

/// Appends `m`'s record to `out`.
fn encode(m: &SubjectMetrics, out: &mut Vec<u8>) {
    let opt = |v: Option<f64>| v.unwrap_or(0.0);
    let numbers = [
        m.ka_per_h,
        m.half_life_h,
        m.v_l,
        m.f,
        opt(m.q_l_per_h),
        opt(m.vp_l),
        m.cmax_ng_ml,
        m.tmax_h,
        m.c_trough_ng_ml,
        m.c_end_ng_ml,
        m.auc_last_tau_ng_h_ml,
        opt(m.dp_ucmgp_pct_change_at_end),
        opt(m.ucoc_pct_change_at_end),
    ];
    out.extend_from_slice(&m.subject.to_le_bytes());
    for x in numbers {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.extend_from_slice(&m.doses_taken.to_le_bytes());
    let flags = [
        m.q_l_per_h,
        m.vp_l,
        m.dp_ucmgp_pct_change_at_end,
        m.ucoc_pct_change_at_end,
    ]
    .iter()
    .enumerate()
    .fold(0u8, |f, (i, v)| f | (u8::from(v.is_some()) << i));
    out.push(flags);
}

/// The subject of a record [`encode`] wrote (`b` is [`RECORD_BYTES`] long).
fn decode(b: &[u8]) -> SubjectMetrics {
    let word = |i: usize| -> [u8; 8] {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[8 * i..8 * i + 8]);
        w
    };
    let x = |i: usize| f64::from_le_bytes(word(i));
    let mut d = [0u8; 4];
    d.copy_from_slice(&b[112..116]);
    let flags = b[116];
    let opt = |bit: u8, i: usize| (flags & (1 << bit) != 0).then(|| x(i));
    SubjectMetrics {
        subject: u64::from_le_bytes(word(0)),
        ka_per_h: x(1),
        half_life_h: x(2),
        v_l: x(3),
        f: x(4),
        q_l_per_h: opt(0, 5),
        vp_l: opt(1, 6),
        cmax_ng_ml: x(7),
        tmax_h: x(8),
        c_trough_ng_ml: x(9),
        c_end_ng_ml: x(10),
        auc_last_tau_ng_h_ml: x(11),
        dp_ucmgp_pct_change_at_end: opt(2, 12),
        ucoc_pct_change_at_end: opt(3, 13),
        doses_taken: u32::from_le_bytes(d),
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, Error> {
    let f = File::create(path).map_err(spill_err(path))?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}

fn flush(w: BufWriter<File>, p: &Path) -> Result<(), Error> {
    w.into_inner()
        .map_err(|e| e.into_error())
        .map_err(spill_err(p))?;
    Ok(())
}

/// The subjects of a population run or a merge, written to files as they come (see the
/// module's documentation).
pub struct SubjectSpill {
    csv_path: PathBuf,
    records_path: PathBuf,
    records: BufWriter<File>,
    records_len: u64,
    cols_path: PathBuf,
    cols: BufWriter<File>,
    cols_len: u64,
    /// `record_pieces[r]`: regimen `r`'s records, piece after piece.
    record_pieces: Vec<Vec<Piece>>,
    /// `col_pieces[r][c]`: the values of column `c` (of [`Self::all_columns`]) of regimen `r`.
    col_pieces: Vec<Vec<Vec<Piece>>>,
    labels: Vec<String>,
    fields: SubjectFields,
    buf: Vec<u8>,
}

impl SubjectSpill {
    /// A spill into `spill` for the regimens `labels`.
    pub fn new(spill: &Spill, labels: Vec<String>) -> Result<Self, Error> {
        let records_path = spill.path("subjects.bin");
        let cols_path = spill.path("columns.f64");
        let columns = Self::all_columns().len();
        Ok(Self {
            csv_path: spill.path(SUBJECTS_CSV),
            records: create(&records_path)?,
            records_path,
            records_len: 0,
            cols: create(&cols_path)?,
            cols_path,
            cols_len: 0,
            record_pieces: vec![Vec::new(); labels.len()],
            col_pieces: vec![vec![Vec::new(); columns]; labels.len()],
            labels,
            fields: SubjectFields::default(),
            buf: Vec::new(),
        })
    }

    /// Every column a subject may have; a subject without a marker has no value in its column.
    fn all_columns() -> Vec<SubjectColumn> {
        SubjectColumn::all(&Marker::ALL)
    }

    /// Keeps the next subjects of regimen `r` (in subject order).
    pub fn keep(&mut self, r: usize, subjects: &[SubjectMetrics]) -> Result<(), Error> {
        self.buf.clear();
        for m in subjects {
            self.fields.add(m);
            encode(m, &mut self.buf);
        }
        self.records
            .write_all(&self.buf)
            .map_err(spill_err(&self.records_path))?;
        self.record_pieces[r].push((self.records_len, self.buf.len() as u64));
        self.records_len += self.buf.len() as u64;
        for (ci, c) in Self::all_columns().into_iter().enumerate() {
            self.buf.clear();
            for v in subjects.iter().filter_map(|m| c.value(m)) {
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            self.cols
                .write_all(&self.buf)
                .map_err(spill_err(&self.cols_path))?;
            self.col_pieces[r][ci].push((self.cols_len, self.buf.len() as u64));
            self.cols_len += self.buf.len() as u64;
        }
        Ok(())
    }

    /// Subjects kept of regimen `r`.
    pub fn subjects(&self, r: usize) -> u64 {
        self.record_pieces[r]
            .iter()
            .map(|&(_, len)| len / RECORD_BYTES as u64)
            .sum()
    }

    /// The optional fields of the subjects kept (the CSV's columns and the summary's markers).
    pub fn fields(&self) -> &SubjectFields {
        &self.fields
    }

    /// Writes `population_subjects.csv` (header, then each regimen's subjects in order) and
    /// returns its path and the columns to fold the summaries from.
    pub fn finish(self) -> Result<(PathBuf, SpilledColumns), Error> {
        flush(self.records, &self.records_path)?;
        flush(self.cols, &self.cols_path)?;
        let err = spill_err(&self.csv_path);
        let mut csv = SubjectsCsv::new(create(&self.csv_path)?, &self.fields)?;
        let from = File::open(&self.records_path).map_err(spill_err(&self.records_path))?;
        let mut from = BufReader::with_capacity(1 << 16, from);
        let mut block = vec![0u8; BLOCK_SUBJECTS * RECORD_BYTES];
        let mut subjects = Vec::with_capacity(BLOCK_SUBJECTS);
        for (label, pieces) in self.labels.iter().zip(&self.record_pieces) {
            for &(offset, len) in pieces {
                from.seek(SeekFrom::Start(offset)).map_err(&err)?;
                let mut left = len as usize;
                while left > 0 {
                    let take = left.min(block.len());
                    from.read_exact(&mut block[..take]).map_err(&err)?;
                    subjects.clear();
                    subjects.extend(block[..take].chunks_exact(RECORD_BYTES).map(decode));
                    csv.rows(label, &subjects)?;
                    left -= take;
                }
            }
        }
        flush(csv.finish()?, &self.csv_path)?;
        let _ = std::fs::remove_file(&self.records_path);
        let cols = File::open(&self.cols_path).map_err(spill_err(&self.cols_path))?;
        Ok((
            self.csv_path,
            SpilledColumns {
                file: BufReader::with_capacity(1 << 16, cols),
                path: self.cols_path,
                pieces: self.col_pieces,
            },
        ))
    }
}

/// The summary columns a [`SubjectSpill`] wrote, read back one column of one regimen at a time.
pub struct SpilledColumns {
    file: BufReader<File>,
    path: PathBuf,
    pieces: Vec<Vec<Vec<Piece>>>,
}

impl SpilledColumns {
    /// The values of column `c` of regimen `r` for the subjects that have one, in subject order.
    pub fn column(&mut self, r: usize, c: SubjectColumn) -> Result<Vec<f64>, Error> {
        let err = spill_err(&self.path);
        let Some(ci) = SubjectSpill::all_columns().iter().position(|&x| x == c) else {
            return Ok(Vec::new());
        };
        let pieces = &self.pieces[r][ci];
        let total: u64 = pieces.iter().map(|&(_, len)| len / 8).sum();
        let mut values = Vec::with_capacity(total as usize);
        let mut v = [0u8; 8];
        for &(offset, len) in pieces {
            self.file.seek(SeekFrom::Start(offset)).map_err(&err)?;
            for _ in 0..len / 8 {
                self.file.read_exact(&mut v).map_err(&err)?;
                values.push(f64::from_le_bytes(v));
            }
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(i: u64, optional: bool) -> SubjectMetrics {
        let x = |k: f64| (i as f64 + 1.0) * k;
        let o = |k: f64| optional.then(|| -x(k));
        SubjectMetrics {
            subject: i,
            ka_per_h: x(0.5),
            half_life_h: x(70.0),
            v_l: x(10.0),
            f: 0.3,
            q_l_per_h: o(1.5),
            vp_l: o(20.0),
            cmax_ng_ml: x(2.25),
            tmax_h: x(4.0),
            c_trough_ng_ml: x(1.125),
            c_end_ng_ml: x(1.75),
            auc_last_tau_ng_h_ml: x(40.0),
            doses_taken: 7 + i as u32,
            dp_ucmgp_pct_change_at_end: o(30.0),
            ucoc_pct_change_at_end: o(45.0),
        }
    }

    #[test]
    fn records_round_trip_with_and_without_optional_values() {
        for optional in [false, true] {
            let m = subject(41, optional);
            let mut b = Vec::new();
            encode(&m, &mut b);
            assert_eq!(b.len(), RECORD_BYTES);
            assert_eq!(decode(&b), m);
        }
    }

    /// Two regimens kept in interleaved pieces (as shards come), more subjects than a block:
    /// the CSV is the one written from memory, byte for byte, and the columns are the
    /// subjects' values in order.
    #[test]
    fn the_spilled_csv_and_columns_are_those_of_the_subjects_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::new(dir.path()).unwrap();
        let a: Vec<SubjectMetrics> = (0..5000).map(|i| subject(i, false)).collect();
        let b: Vec<SubjectMetrics> = (0..5000).map(|i| subject(i, i % 3 == 0)).collect();
        let mut kept = SubjectSpill::new(&spill, vec!["a".into(), "b".into()]).unwrap();
        for k in 0..4 {
            let piece = 1250 * k..1250 * (k + 1);
            kept.keep(0, &a[piece.clone()]).unwrap();
            kept.keep(1, &b[piece]).unwrap();
        }
        assert_eq!((kept.subjects(0), kept.subjects(1)), (5000, 5000));
        let (csv, mut columns) = kept.finish().unwrap();
        let fields = SubjectFields::of(a.iter().chain(&b));
        let mut want = SubjectsCsv::new(Vec::new(), &fields).unwrap();
        want.rows("a", &a).unwrap();
        want.rows("b", &b).unwrap();
        assert_eq!(std::fs::read(&csv).unwrap(), want.finish().unwrap());
        let ucoc = SubjectColumn::PctChangeAtEnd(Marker::Ucoc);
        for (r, subjects) in [&a, &b].into_iter().enumerate() {
            for c in [
                SubjectColumn::CmaxNgMl,
                SubjectColumn::AucLastTauNgHMl,
                ucoc,
            ] {
                let want: Vec<f64> = subjects.iter().filter_map(|m| c.value(m)).collect();
                assert_eq!(columns.column(r, c).unwrap(), want, "regimen {r}, {c:?}");
            }
        }
        assert!(columns.column(0, ucoc).unwrap().is_empty());
    }
}
