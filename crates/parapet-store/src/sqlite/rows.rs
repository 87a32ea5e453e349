//! Many rows in one statement. Inside a transaction, SQLite keeps a
//! statement journal for every statement that fires a trigger (the
//! overview's counters, the findings' trend): each page the statement
//! changes is copied there first, so that the statement alone can be undone.
//! One row per statement copied the same pages again for every row: the
//! first recorded scan of 100,000 assets spent more time copying pages than
//! writing them. An `INSERT … VALUES (…)` of many rows is written as one
//! statement per chunk of rows (`VALUES (…), (…), …`), whose pages are copied
//! once.

use std::fmt::Write;

/// The most rows one statement writes; a run of rows is cut into chunks of
/// powers of two up to it, so that a statement holds a few shapes (each
/// prepared once).
pub(super) const CHUNK: usize = 64;

/// SQLite's limit on the parameters of one statement.
const MAX_PARAMETERS: usize = 32_766;

/// A statement of one row of values, as it repeats.
#[derive(Debug, PartialEq)]
pub(super) struct Values<'s> {
    /// Up to and including `VALUES `.
    head: &'s str,
    /// The row, between its parentheses, cut at each parameter `?N`: the
    /// text before it and N.
    row: Vec<(&'s str, usize)>,
    /// The text after the last parameter, up to the row's closing
    /// parenthesis.
    row_end: &'s str,
    /// After the row.
    tail: &'s str,
    /// How many parameters one row takes (its highest N).
    pub parameters: usize,
}

impl<'s> Values<'s> {
    /// The row of values of `sql`, an `INSERT … VALUES (…) …` whose every
    /// parameter is in its one row; `None` for any other statement.
    pub fn of(sql: &'s str) -> Option<Values<'s>> {
        let start = sql.find(" VALUES (")? + " VALUES ".len();
        let (head, rest) = sql.split_at(start);
        let end = rest.find(')')?;
        let (inner, tail) = (&rest[1..end], &rest[end + 1..]);
        // A literal holding a parenthesis would end the row early: an odd
        // count of quotes before the first `)` shows one.
        if inner.contains('(')
            || inner.matches('\'').count() % 2 != 0
            || tail.contains('?')
            || head.contains('?')
        {
            return None;
        }
        let mut row = Vec::new();
        let mut text = inner;
        while let Some(at) = text.find('?') {
            let digits = text[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len() - at - 1);
            let number: usize = text[at + 1..at + 1 + digits].parse().ok()?;
            row.push((&text[..at], number));
            text = &text[at + 1 + digits..];
        }
        let parameters = row.iter().map(|(_, n)| *n).max()?;
        Some(Values {
            head,
            row,
            row_end: text,
            tail,
            parameters,
        })
    }

    /// The statement with `rows` rows, the parameters of row k numbered
    /// after those of the rows before it.
    pub fn repeated(&self, rows: usize) -> String {
        let mut sql = String::from(self.head);
        for k in 0..rows {
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (before, number) in &self.row {
                sql.push_str(before);
                // Writing to a string cannot fail.
                let _ = write!(sql, "?{}", number + k * self.parameters);
            }
            sql.push_str(self.row_end);
            sql.push(')');
        }
        sql.push_str(self.tail);
        sql
    }

    /// The rows one statement takes at most.
    pub fn most_rows(&self) -> usize {
        CHUNK.min(MAX_PARAMETERS / self.parameters.max(1))
    }
}

/// How many rows the next statement takes of `left` rows: the largest power
/// of two no greater than `left` or `most`.
pub(super) fn chunk(left: usize, most: usize) -> usize {
    let most = most.min(left).max(1);
    1 << most.ilog2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_the_row_and_numbers_its_parameters_on() {
        let values = Values::of(
            "INSERT INTO t (a, b, c) VALUES (?1, 1, ?2) ON CONFLICT (a) DO UPDATE SET b = excluded.b",
        )
        .expect("one row of values");
        assert_eq!(values.parameters, 2);
        assert_eq!(
            values.repeated(3),
            "INSERT INTO t (a, b, c) VALUES (?1, 1, ?2), (?3, 1, ?4), (?5, 1, ?6) ON CONFLICT (a) DO UPDATE SET b = excluded.b"
        );
        assert_eq!(
            values.repeated(1),
            "INSERT INTO t (a, b, c) VALUES (?1, 1, ?2) ON CONFLICT (a) DO UPDATE SET b = excluded.b"
        );
    }

    #[test]
    fn literals_stay_in_every_row() {
        let values = Values::of("INSERT INTO t (a, b) VALUES (?1, 'queued') RETURNING id")
            .expect("one row of values");
        assert_eq!(
            values.repeated(2),
            "INSERT INTO t (a, b) VALUES (?1, 'queued'), (?2, 'queued') RETURNING id"
        );
    }

    #[test]
    fn a_parameter_used_twice_keeps_its_number_in_its_row() {
        let values = Values::of("INSERT INTO t (a, b, c) VALUES (?1, ?2, ?2) RETURNING id")
            .expect("one row of values");
        assert_eq!(
            values.repeated(2),
            "INSERT INTO t (a, b, c) VALUES (?1, ?2, ?2), (?3, ?4, ?4) RETURNING id"
        );
    }

    #[test]
    fn other_statements_are_left_alone() {
        for sql in [
            "UPDATE t SET a = ?1 WHERE b = ?2",
            "DELETE FROM t WHERE a = ?1",
            "INSERT INTO t (a) SELECT ?1",
            "INSERT INTO t (a, b) VALUES (?1, coalesce(?2, 0))",
            "INSERT INTO t (a) VALUES (?1) ON CONFLICT (a) DO UPDATE SET b = ?2",
            "INSERT INTO t (a) VALUES (1)",
            "INSERT INTO t (a, b) VALUES (?1, 'x)y')",
        ] {
            assert_eq!(Values::of(sql), None, "{sql}");
        }
    }

    #[test]
    fn chunks_are_powers_of_two() {
        let mut left = 200;
        let mut chunks = Vec::new();
        while left > 0 {
            let n = chunk(left, CHUNK);
            chunks.push(n);
            left -= n;
        }
        assert_eq!(chunks, [64, 64, 64, 8]);
        assert_eq!(chunk(5, 4), 4);
        assert_eq!(chunk(1, CHUNK), 1);
    }
}
