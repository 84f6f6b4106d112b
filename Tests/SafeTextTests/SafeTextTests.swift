import SafeText
import XCTest

final class SafeTextTests: XCTestCase {
    func testControlsBecomeVisible() {
        XCTAssertEqual(SafeText.escaped("plain-name_1.lan"), "plain-name_1.lan")
        XCTAssertEqual(SafeText.escaped("a\nb\rc\td"), #"a\nb\rc\td"#)
        XCTAssertEqual(SafeText.escaped("\u{1b}]0;pwned\u{7}\u{1b}[2J"), #"\x1b]0;pwned\x07\x1b[2J"#)
        XCTAssertEqual(SafeText.escaped("del\u{7f} c1\u{9b}31m nul\u{0}"), #"del\x7f c1\x9b31m nul\x00"#)
        XCTAssertEqual(SafeText.escaped("abc\u{202e}fed"), #"abc\u{202e}fed"#)
        XCTAssertEqual(SafeText.escaped("é😀 ünïcode"), "é😀 ünïcode", "printable text is left alone")
        let escaped = SafeText.escaped((0...0x2070).compactMap(Unicode.Scalar.init).map(String.init).joined())
        XCTAssertFalse(escaped.unicodeScalars.contains(where: SafeText.needsEscape))
    }

    /// What an operator copies from the screen gives the exact text back.
    func testReversibleEscapesRoundTrip() {
        for text in ["plain", "back\\slash\\n", "n\n\u{1b}[2J\u{9b}\u{202e}\t\r\u{0}", "é😀", "\\x41"] {
            let shown = SafeText.escaped(text, reversible: true)
            XCTAssertFalse(shown.unicodeScalars.contains(where: SafeText.needsEscape))
            XCTAssertEqual(SafeText.unescaped(shown), text, shown)
        }
        XCTAssertEqual(SafeText.escaped(#"a\b"#), #"a\b"#, "not doubled unless asked")
        for bad in [#"\"#, #"\q"#, #"\x4"#, #"\xzz"#, #"\u{}"#, #"\u{110000}"#, #"\u{41"#] {
            XCTAssertNil(SafeText.unescaped(bad), bad)
        }
    }

    func testLimitCutsWithAnEllipsis() {
        XCTAssertEqual(SafeText.escaped("short", limit: 10), "short")
        XCTAssertEqual(SafeText.escaped("exactly-10", limit: 10), "exactly-10")
        XCTAssertEqual(SafeText.escaped(String(repeating: "x", count: 1_000_000), limit: 80).count, 80)
        XCTAssertEqual(SafeText.escaped("abcdefghijk", limit: 5), "abcd…")
        XCTAssertEqual(SafeText.escaped("\n\n\n", limit: 5), #"\n\n…"#, "the limit applies to what is shown")
    }
}
