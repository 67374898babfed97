//! The one place MiniJinja environments are made. Templates come from
//! untrusted catalogs and template repositories (scorecard messages,
//! scaffold files and names, Backstage expressions, integration URLs), so
//! every environment gets fuel — a step budget per render, so no template
//! loops forever — and renders that may grow large go through a writer that
//! stops at a byte limit, before a huge output exists in memory.

use std::io;

use minijinja::{Environment, ErrorKind, Template, Value};

/// A MiniJinja environment whose every render stops after `fuel` steps
/// (`ErrorKind::OutOfFuel`).
pub fn environment(fuel: u64) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(fuel));
    env
}

/// Why a capped render produced nothing.
#[derive(Debug)]
pub enum CappedError {
    /// The output would pass the byte limit (rendering stopped there).
    TooLarge {
        /// The size the output had reached when it was stopped.
        attempted: u64,
    },
    /// The template failed (out of fuel included).
    Template(minijinja::Error),
}

impl CappedError {
    /// Whether the template ran out of fuel.
    pub fn is_out_of_fuel(&self) -> bool {
        matches!(self, CappedError::Template(e) if e.kind() == ErrorKind::OutOfFuel)
    }
}

/// Renders `template` into memory, giving up as soon as the output passes
/// `max_bytes`.
pub fn render_capped(
    template: &Template,
    ctx: Value,
    max_bytes: u64,
) -> Result<String, CappedError> {
    let mut w = Capped {
        buf: Vec::new(),
        max: max_bytes,
        attempted: None,
    };
    match template.render_captured_to(ctx, &mut w) {
        Ok(_) => Ok(String::from_utf8(w.buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())),
        Err(e) => match w.attempted {
            Some(attempted) => Err(CappedError::TooLarge { attempted }),
            None => Err(CappedError::Template(e)),
        },
    }
}

/// A buffer that refuses to grow past `max` bytes.
struct Capped {
    buf: Vec<u8>,
    max: u64,
    /// Set when a write was refused: the size it would have reached.
    attempted: Option<u64>,
}

impl io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let size = (self.buf.len() + data.len()) as u64;
        if size > self.max {
            self.attempted = Some(size);
            return Err(io::Error::other("output limit reached"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuel_stops_a_loop_and_the_cap_stops_a_flood() {
        let env = environment(10_000);
        let looping = env
            .template_from_str(
                "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            )
            .unwrap();
        assert!(render_capped(&looping, Value::UNDEFINED, 1 << 20)
            .unwrap_err()
            .is_out_of_fuel());
        let env = environment(1_000_000);
        let flood = env
            .template_from_str(
                "{% set s = 'x' * 100000 %}{% for i in range(100000) %}{{ s }}{% endfor %}",
            )
            .unwrap();
        let start = std::time::Instant::now();
        assert!(matches!(
            render_capped(&flood, Value::UNDEFINED, 1 << 20),
            Err(CappedError::TooLarge { .. })
        ));
        assert!(start.elapsed().as_secs() < 2);
        let small = env.template_from_str("{{ 1 + 1 }}").unwrap();
        assert_eq!(render_capped(&small, Value::UNDEFINED, 1).unwrap(), "2");
    }
}
