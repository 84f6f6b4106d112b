import ArgumentParser

/// "did you mean 'alpha'?": the closest of the known names to a mistyped one,
/// for unknown commands and nodes. Pure.
enum Suggestion {
    /// The known name nearest to `name` by edit distance (a swapped pair of
    /// letters counts as one edit: "alpah" is one from "alpha"), when it is near
    /// enough to be a typo: at most 1 edit for names up to 4 characters, 2 up to 8,
    /// 3 beyond. Ties go to the first in `known`'s sorted order.
    static func closest(to name: String, among known: some Sequence<String>) -> String? {
        let limit = name.count <= 4 ? 1 : name.count <= 8 ? 2 : 3
        var best: (name: String, distance: Int)?
        for candidate in known.sorted() where candidate != name {
            let d = distance(name, candidate)
            if d <= limit && d < (best?.distance ?? .max) { best = (candidate, d) }
        }
        return best?.name
    }

    /// "; did you mean 'alpha'?" or "" when nothing is close.
    static func hint(for name: String, among known: some Sequence<String>) -> String {
        closest(to: name, among: known).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions
    /// and transpositions of adjacent characters, each costing 1.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var row = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            row[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    row[j] = min(row[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, row) = (previous, row, previous2)
        }
        return previous[b.count]
    }

    /// The options that take a value before or between command words (the
    /// connection options): their value is not a command word.
    private static let valueOptions: Set<String> = ["--config", "--endpoints"]

    /// When the command words of `arguments` name no command ("monitorctl stauts",
    /// "monitorctl config lsit"), the error to print, with the closest command;
    /// nil when they do (the parse error is then about something else).
    static func unknownCommand(in arguments: [String]) -> String? {
        var command: any ParsableCommand.Type = Monitorctl.self
        var path = ["monitorctl"]
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            if word == "--" { return nil }
            if valueOptions.contains(word) { index += 1; continue }
            if word.hasPrefix("-") { continue }
            let subcommands = command.configuration.subcommands
            // A leaf command: the rest are its own arguments.
            guard !subcommands.isEmpty else { return nil }
            let names = subcommands.map { $0._commandName } + (path.count == 1 ? ["help"] : [])
            guard let next = subcommands.first(where: { $0._commandName == word }) else {
                if word == "help" { return nil }
                return "unknown command '\(word)' for '\(path.joined(separator: " "))'"
                    + hint(for: word, among: names) + " (expected one of: \(names.joined(separator: ", ")))"
            }
            command = next
            path.append(word)
        }
        return nil
    }
}
