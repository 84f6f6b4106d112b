#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A number as our values write it: whole values as integers ("interval": 10,
/// "first_start": 1763719200), others as Double. JSONEncoder already drops ".0"
/// from 10.0, but writes 1e16 as 1e+16 and -0.0 as -0, where the values written so
/// far (and the lab's) have an integer; encoding Int64 whenever it is exact keeps
/// them byte for byte.
struct WholeNumber: Encodable {
    let value: Double

    init(_ value: Double) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let whole = Int64(exactly: value) { try container.encode(whole) } else { try container.encode(value) }
    }
}

/// How values go to and from etcd.
enum JSONCoding {
    /// Sorted keys, like the JSONSerialization code this replaces, so equal values
    /// are equal bytes (monitorctl compares them).
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return [UInt8](try encoder.encode(value))
    }

    /// Decodes `T` from a document that is well-formed throughout: throws
    /// `MalformedJSON` for bad syntax anywhere, else whatever `T` throws.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let checked: Checked<T>
        do {
            checked = try JSONDecoder().decode(Checked<T>.self, from: Data(bytes))
        } catch DecodingError.dataCorrupted {
            throw MalformedJSON()
        }
        return checked.value
    }

    /// Checks the whole document, then decodes `T` from it, in one scan.
    private struct Checked<Value: Decodable>: Decodable {
        var value: Value
        init(from decoder: Decoder) throws {
            try WellFormedJSON.check(decoder)
            value = try Value(from: decoder)
        }
    }
}

/// A document JSONSerialization would have refused as a whole.
struct MalformedJSON: Error {}

/// Reads every string and number of a document once. JSONDecoder validates them
/// only when a field is decoded, so a stray "\u0", 1e400, "-0-0", a raw control
/// character or bad UTF-8 in a field nobody reads would pass; JSONSerialization
/// refused such values, and callers keep calling them not JSON.
private struct WellFormedJSON: Decodable {
    /// Each level costs about 2 KB of stack (debug build) and JSONDecoder allows 512:
    /// below this depth nothing is checked (accepted, as JSONDecoder would), so a
    /// deeply nested value cannot exhaust a small thread stack. Ours nest 2 deep.
    static let maxDepth = 32

    static func check(_ decoder: Decoder) throws {
        _ = try WellFormedJSON(from: decoder)
    }

    init(from decoder: Decoder) throws {
        if decoder.codingPath.count >= Self.maxDepth { return }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            for key in object.allKeys { _ = try object.decode(WellFormedJSON.self, forKey: key) }
        } else if var list = try? decoder.unkeyedContainer() {
            while !list.isAtEnd { _ = try list.decode(WellFormedJSON.self) }
        } else {
            let scalar = try decoder.singleValueContainer()
            // null, a boolean, a readable string, or else it must be a readable number.
            guard !scalar.decodeNil(), (try? scalar.decode(Bool.self)) == nil,
                  (try? scalar.decode(String.self)) == nil else { return }
            guard (try? scalar.decode(Double.self)).map(\.isFinite) == true else { throw MalformedJSON() }
        }
    }
}

/// Any field name, for objects whose keys are data (metric names).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer {
    /// The field as `T`, or nil when it is missing, null or of another type: a
    /// value written by a newer or older agent must stay readable, so one odd
    /// field never fails the whole value.
    func lenient<T: Decodable>(_ type: T.Type, _ key: Key) -> T? {
        (try? decodeIfPresent(type, forKey: key)) ?? nil
    }

    /// A finite number, else nil. JSONDecoder never reads true/false as a number
    /// (JSONSerialization boxed them as NSNumber, hence the old explicit check),
    /// and numbers beyond Double's range fail to decode instead of becoming inf.
    func number(_ key: Key) -> Double? {
        lenient(Double.self, key).flatMap { $0.isFinite ? $0 : nil }
    }
}

/// What a config field holds, as far as validation and its error messages need to
/// know. Decoding it never fails on a document `JSONCoding.decode` accepts.
enum JSONFieldValue: Decodable, Equatable {
    case null
    case bool(Bool)
    /// An integer literal (or a whole number JSONDecoder reads as one).
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case strings([String])
    /// A list with anything but strings in it.
    case list
    case object

    init(from decoder: Decoder) throws {
        if let single = try? decoder.singleValueContainer() {
            if single.decodeNil() { self = .null; return }
            if let value = try? single.decode(Bool.self) { self = .bool(value); return }
            // Integers first, so their text in messages is exact ("got 86401").
            if let value = try? single.decode(Int64.self) { self = .integer(value); return }
            if let value = try? single.decode(UInt64.self) { self = .unsigned(value); return }
            if let value = try? single.decode(Double.self) { self = .number(value); return }
            if let value = try? single.decode(String.self) { self = .string(value); return }
            if let value = try? single.decode([String].self) { self = .strings(value); return }
        }
        if (try? decoder.unkeyedContainer()) != nil { self = .list; return }
        if (try? decoder.container(keyedBy: AnyKey.self)) != nil { self = .object; return }
        // Unreachable after JSONCoding.decode's check: unreadable strings and numbers
        // make the whole document malformed.
        throw MalformedJSON()
    }

    /// The value as a number, nil for every other kind (booleans included).
    var number: Double? {
        switch self {
        case let .integer(value): return Double(value)
        case let .unsigned(value): return Double(value)
        case let .number(value): return value.isFinite ? value : nil
        default: return nil
        }
    }
}
