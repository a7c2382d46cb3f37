//! The parser (and the inference it runs) returns errors, never panics, on damaged text:
//! deterministic mutations of a printed graph (truncation, dropped and swapped characters,
//! huge or negative numbers).

mod common;

use kiln_ir::text::{parse, print};

/// A small deterministic generator (64-bit LCG), enough to pick mutation sites.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

fn mutate(text: &str, rng: &mut Lcg) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = rng.next(chars.len());
    let mut out: Vec<char> = chars.clone();
    match rng.next(6) {
        0 => out.truncate(at),
        1 => {
            out.remove(at);
        }
        2 => {
            let other = rng.next(chars.len());
            out.swap(at, other);
        }
        3 => out.splice(at..at, "99999999999999999999".chars()).for_each(drop),
        4 => out.splice(at..at, "18446744073709551615".chars()).for_each(drop),
        _ => out.splice(at..at, "-".chars()).for_each(drop),
    }
    out.into_iter().collect()
}

#[test]
fn mutated_text_never_panics() {
    let text = print(&common::every_op_graph());
    let mut rng = Lcg(42);
    let mut rejected = 0;
    for i in 0..3000 {
        let m = mutate(&text, &mut rng);
        match std::panic::catch_unwind(|| parse(&m)) {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => rejected += 1,
            Err(_) => panic!("parse panicked on mutation {i}:\n{m}"),
        }
    }
    assert!(rejected > 1000, "only {rejected} mutations were rejected");
}

#[test]
fn huge_shapes_are_errors() {
    for t in [
        "graph @g(%x: f32[18446744073709551615,2]) {\n  return %x\n}",
        "graph @g() {\n  %c: f32[4294967296,4294967296] = Constant splat<1.0>\n  return %c\n}",
        "graph @g(%x: f32[2]) {\n  %y: f32[2] = Reshape(%x) {shape = [4294967296, 4294967296, 4]}\n  return %y\n}",
        "graph @g(%x: f32[2,3]) {\n  %a: f32[2,1], %b: f32[2,2] = Split(%x) {axis = 1, sizes = [18446744073709551615, 4]}\n  return %a\n}",
        "graph @g(%x: f32[1,1,4,4]) {\n  %y: f32[1,1,1,1] = MaxPool(%x) {kernel = [2, 2], strides = [1, 1], pads = [0, 0, 18446744073709551615, 0], dilations = [18446744073709551615, 1]}\n  return %y\n}",
        "graph @g(%x: f32[4]) {\n  %y: f32[1] = Slice(%x) {axes = [0], starts = [3], ends = [-1], steps = [-9223372036854775808]}\n  return %y\n}",
    ] {
        match std::panic::catch_unwind(|| parse(t)) {
            Ok(r) => assert!(r.is_err() || t.contains("Slice"), "accepted:\n{t}"),
            Err(_) => panic!("parse panicked on:\n{t}"),
        }
    }
}
