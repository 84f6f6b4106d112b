import Foundation
import JSONStream
import XCTest

final class JSONWriterTests: XCTestCase {
    func testLayoutMatchesPrettyPrintedJSONSerialization() {
        var w = JSONWriter()
        w.object { w in
            w.key("a"); w.array { w in w.integer(1); w.number(2.5); w.bool(false); w.null() }
            w.key("b"); w.object { w in w.key("c"); w.string("x") }
        }
        let expected = try! JSONSerialization.data(withJSONObject: ["a": [1, 2.5, false, NSNull()], "b": ["c": "x"]] as [String: Any],
                                                   options: [.prettyPrinted, .sortedKeys])
        XCTAssertEqual(w.text, String(decoding: expected, as: UTF8.self))

        // Empty containers on one line (JSONSerialization puts a blank line inside).
        var empty = JSONWriter()
        empty.object { w in w.key("b"); w.object { _ in }; w.key("c"); w.array { _ in } }
        XCTAssertEqual(empty.text, "{\n  \"b\" : {},\n  \"c\" : []\n}")
    }

    /// Whatever the strings and numbers, the document reads back to the same values.
    func testEscapesAndNumbersReadBack() throws {
        let strings = ["plain", "quote \" backslash \\ slash /", "\n\r\t\u{0}\u{1b}[2J\u{7f}\u{85}", "é😀", ""]
        let numbers = [0, 10, 1e16, 1e300, 0.1, 1796352071.5198634, -2.5e-7, 18446744073709551616]
        var w = JSONWriter()
        w.object { w in
            w.key("strings"); w.array { w in for s in strings { w.string(s) } }
            w.key("numbers"); w.array { w in for n in numbers { w.number(n) } }
            w.key("missing"); w.number(Double?.none)
            w.key("nan"); w.number(.nan)
        }
        XCTAssertFalse(w.bytes.contains(0x1b), "no raw ESC reaches a terminal")
        let read = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        XCTAssertEqual(read["strings"] as? [String], strings)
        // Read back with strtod (JSONSerialization's own parse is off by an ulp at times).
        var reader = JSONReader(w.bytes)
        var readNumbers: [Double] = []
        try reader.object { reader, key in
            if key == "numbers" { try reader.array { readNumbers.append(try $0.readNumber()) } } else { try reader.skip() }
        }
        XCTAssertEqual(readNumbers, numbers)
        XCTAssertTrue(read["missing"] is NSNull)
        XCTAssertTrue(read["nan"] is NSNull)
    }
}
