import Foundation

/// The small `-o json` documents (config get/list, endpoints, watch lines),
/// built as trees with JSONSerialization: keys sorted, slashes unescaped, laid out
/// as `status -o json` (JSONWriter) is. `status` keeps its own writer: 10,000
/// nodes are too many for a tree of `Any`.
enum CtlJSON {
    /// A pretty-printed document and its final newline.
    static func document(_ object: Any) -> String {
        encode(object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) + "\n"
    }

    /// One compact line (JSON lines: a newline ends each object).
    static func line(_ object: Any) -> String {
        encode(object, options: [.sortedKeys, .withoutEscapingSlashes]) + "\n"
    }

    /// nil as JSON null.
    static func orNull(_ value: Any?) -> Any { value ?? NSNull() }

    private static func encode(_ object: Any, options: JSONSerialization.WritingOptions) -> String {
        // Only trees of strings, numbers, booleans, NSNull, arrays and dictionaries
        // reach here: serialising cannot fail.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
