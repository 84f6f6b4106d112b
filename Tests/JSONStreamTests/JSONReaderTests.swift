import Foundation
@testable import JSONStream
import XCTest

final class JSONReaderTests: XCTestCase {
    /// One whole document, of any kind.
    static func isJSON(_ bytes: [UInt8]) -> Bool {
        var reader = JSONReader(bytes)
        do {
            try reader.skip()
            try reader.end()
            return true
        } catch {
            return false
        }
    }

    /// Reads a flat object of any values into text, the way a value type would.
    private func fields(_ text: String) throws -> [String: String] {
        var reader = JSONReader(Array(text.utf8))
        var out: [String: String] = [:]
        try reader.object { reader, key in
            switch try reader.kind() {
            case .string: out[key] = "s:" + (try reader.readString())
            case .number: out[key] = "n:\(try reader.readNumber())"
            case .bool: out[key] = "b:\(try reader.readBool())"
            case .null: try reader.readNull(); out[key] = "null"
            case .object, .array: try reader.skip(); out[key] = "skipped"
            }
        }
        try reader.end()
        return out
    }

    /// What JSONSerialization and JSONDecoder accept beyond RFC 8259, so values
    /// they read stay readable.
    func testAcceptsATrailingCommaAndAByteOrderMark() throws {
        XCTAssertEqual(try fields("\u{feff}{\"a\": [1, {\"b\": 2,},], \"c\": 3,}"), ["a": "skipped", "c": "n:3.0"])
        for text in ["[1,]", "[{},]", "{\"a\":[1,],}"] { XCTAssertTrue(Self.isJSON(Array(text.utf8)), text) }
    }

    func testReadsEveryKindInOrder() throws {
        let read = try fields(#" {"a": "x\"y\u00e9\ud83d\ude00", "b": -1.5e2, "c": true, "d": null, "e": [1, {"f": []}], "g": {}} "#)
        XCTAssertEqual(read, ["a": "s:x\"yé😀", "b": "n:-150.0", "c": "b:true", "d": "null", "e": "skipped", "g": "skipped"])
    }

    func testLenientReadersSkipOtherKindsButStillCheckThem() throws {
        var reader = JSONReader(Array(#"{"a": [1, 2], "b": "t", "c": {"x": [true]}}"#.utf8))
        var got: [String: Bool] = [:]
        try reader.object { reader, key in got[key] = try reader.number() != nil }
        XCTAssertEqual(got, ["a": false, "b": false, "c": false])

        var broken = JSONReader(Array(#"{"a": [1, 2,,], "b": 1}"#.utf8))
        XCTAssertThrowsError(try broken.object { reader, _ in _ = try reader.number() }, "a skipped value is still checked")
    }

    func testIntegerTextKeepsEveryDigit() throws {
        var reader = JSONReader(Array(#"["7587883485930934021", 18446744073709551615, null]"#.utf8))
        var texts: [String?] = []
        try reader.array { texts.append(try $0.integerText()) }
        XCTAssertEqual(texts, ["7587883485930934021", "18446744073709551615", nil])
    }

    func testBase64() throws {
        for sample in ["", "a", "ab", "abc", "abcd", "/monitor/heartbeat/n1", "\u{0}\u{ff}é"] {
            let bytes = Array(sample.utf8)
            let encoded = Base64.encode(bytes)
            XCTAssertEqual(encoded, Data(bytes).base64EncodedString())
            XCTAssertEqual(Base64.decode(Array(encoded.utf8)), bytes)
            var reader = JSONReader(Array("\"\(encoded)\"".utf8))
            XCTAssertEqual(try reader.base64(), bytes)
        }
        for bad in ["a", "ab=c", "abc", "====", "a===", "ab==cd==", "ab$d", "YQ== "] {
            XCTAssertNil(Base64.decode(Array(bad.utf8)), bad)
        }
    }

    func testRefusesWhatIsNotJSON() {
        let bad = [
            "", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{,}", "[,]", "[1,,]", "[1 2]", "{\"a\":1 \"b\":2}", "{1:2}",
            "01", "1.", ".5", "-", "1e", "+1", "1e400", "-1e400", "tru", "nul", "\"\\u0\"", "\"\\x\"",
            "\"a\nb\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "{} x", "[]]", "\"abc",
        ]
        for text in bad { XCTAssertFalse(Self.isJSON(Array(text.utf8)), text) }
        var invalidUTF8 = JSONReader([0x22, 0xc3, 0x28, 0x22])
        XCTAssertThrowsError(try invalidUTF8.readString())
        var del = JSONReader(Array("\"\u{7f}\"".utf8))
        XCTAssertEqual(try del.readString(), "\u{7f}", "only C0 controls must be escaped")
    }

    /// JSONDecoder's limit: 512 levels are a document, 513 are not; skipping does
    /// not recurse, so a small thread stack is enough.
    func testNestingLimitOnASmallStack() {
        @Sendable func nested(_ depth: Int) -> [UInt8] {
            Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
        }
        let done = DispatchSemaphore(value: 0)
        // Written by the thread before `done.signal()`, read after `done.wait()`.
        nonisolated(unsafe) var results: [Bool] = []
        let thread = Thread {
            for depth in [512, 513] {
                var reader = JSONReader(nested(depth))
                results.append((try? reader.skip()) != nil)
            }
            done.signal()
        }
        thread.stackSize = 64 * 1024
        thread.start()
        done.wait()
        XCTAssertEqual(results, [true, false])
    }

    /// Random and mutated documents: the reader accepts exactly what
    /// JSONSerialization accepts, and reads the same strings and numbers.
    func testAgreesWithJSONSerializationOnTwentyThousandInputs() {
        let seeds = [
            #"{"status":"alive","ts":1700000000.5,"hostname":"n1","interval":10,"metrics":{"cpu":12.5,"memory":41}}"#,
            #"{"header":{"revision":"12"},"kvs":[{"key":"L20vbjE=","value":"e30=","mod_revision":"5"}],"count":"1"}"#,
            #"[{"a":[{"b":null}]}, true, false, -0.0, "\u0000\ud83d\ude00\n", 1E+2, 0.25e-3]"#,
        ].map { Array($0.utf8) }
        let interesting: [UInt8] = Array("{}[]\",:0-9.eE\\ntfu".utf8) + [0, 0x1f, 0x7f, 0xff, 0xc3, 0x80]
        var rng = SystemRandomNumberGenerator()
        var accepted = 0, compared = 0
        for i in 0..<20_000 {
            var bytes = seeds[i % seeds.count]
            for _ in 0...Int.random(in: 0...3, using: &rng) {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0...3, using: &rng) {
                case 0: bytes[at] = interesting.randomElement(using: &rng)!
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(interesting.randomElement(using: &rng)!, at: at)
                default: bytes = Array(bytes[..<at])
                }
                if bytes.isEmpty { break }
            }
            // A NUL among the first two bytes makes Foundation read UTF-16 or
            // UTF-32 ([0, 48] is "0" in UTF-16BE); etcd and our values are UTF-8.
            if bytes.prefix(2).contains(0) { continue }
            let expected = (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
            let got = Self.isJSON(bytes)
            XCTAssertEqual(got, expected, String(decoding: bytes, as: UTF8.self) + " \(bytes)")
            compared += 1
            if got { accepted += 1 }
        }
        // Both outcomes were exercised.
        XCTAssertGreaterThan(accepted, 1000)
        XCTAssertLessThan(accepted, compared - 1000)
    }
}
