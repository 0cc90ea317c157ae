import AyumiCore
import Yams

/// One problem in a rules file, located as `file:line:column` the way compilers print it.
public struct RulesDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        /// The program cannot be used until it is fixed.
        case error
        /// The program loads, but part of it cannot do what it was written for (a rule that can never fire).
        case warning
    }

    public var file: String
    public var line: Int
    public var column: Int
    public var message: String
    public var severity = Severity.error

    public var description: String { "\(file):\(line):\(column): \(severity.rawValue): \(message)" }
}

/// A typed view over a Yams node that remembers where it came from, so every semantic error
/// (an unknown sponsor, a negative cap) names the file, line and column of the offending value.
struct YAMLValue {
    let node: Node
    let file: String

    static func parse(_ text: String, file: String) throws(RulesDiagnostic) -> YAMLValue {
        if let (line, column) = anchorOrAlias(in: text) {
            throw RulesDiagnostic(file: file, line: line, column: column,
                                  message: "anchors and aliases (&name, *name) are not accepted: write the value out (quote text that starts with & or *)")
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw RulesDiagnostic(file: file, line: 1, column: 1, message: "the file is empty")
            }
            return YAMLValue(node: node, file: file)
        } catch let error as RulesDiagnostic {
            throw error
        } catch let error as YamlError {
            throw Self.diagnostic(error, file: file)
        } catch {
            throw RulesDiagnostic(file: file, line: 1, column: 1, message: "\(error)")
        }
    }

    /// Where an anchor or alias starts: a few lines of aliases can expand to billions of nodes (the
    /// "billion laughs"), and a rules upload must not stall the server. Rules files never need them.
    /// An anchor or alias can only begin a node: at the start of a line's content, after `: `, `- `,
    /// `? `, or after `[`, `{` or `,` in a flow collection. Quoted scalars (a quote that begins a
    /// node, with `''` and `\"` escapes), comments and the lines of `|` and `>` blocks are text.
    static func anchorOrAlias(in text: String) -> (line: Int, column: Int)? {
        var lineNumber = 0
        var quote: Character?
        var blockIndent: Int?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            lineNumber += 1
            let line = Array(rawLine)
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            // The lines of a block scalar are text, as long as they are indented deeper than its key.
            if quote == nil, let block = blockIndent {
                if indent > block || line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                blockIndent = nil
            }
            var nodeStart = quote == nil  // the line's first content begins a node
            var previous: Character = " "
            var index = 0
            while index < line.count {
                let character = line[index]
                defer { previous = character; index += 1 }
                if let open = quote {
                    if open == "\"" && character == "\\" { index += 1; continue }
                    if character == open {
                        if open == "'" && index + 1 < line.count && line[index + 1] == "'" { index += 1; continue }
                        quote = nil
                    }
                    continue
                }
                if character == " " || character == "\t" { continue }
                if character == "#" && (previous == " " || previous == "\t" || index == 0) { break }
                if nodeStart {
                    if character == "&" || character == "*" { return (lineNumber, index + 1) }
                    if character == "'" || character == "\"" { quote = character; nodeStart = false; continue }
                }
                let next: Character = index + 1 < line.count ? line[index + 1] : " "
                if "[{,".contains(character) {
                    nodeStart = true
                } else if ":-?".contains(character) && (next == " " || next == "\t" || index + 1 == line.count) {
                    nodeStart = true
                } else if (character == "|" || character == ">") && nodeStart {
                    blockIndent = indent
                    nodeStart = false
                } else {
                    nodeStart = false
                }
            }
        }
        return nil
    }

    private static func diagnostic(_ error: YamlError, file: String) -> RulesDiagnostic {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            RulesDiagnostic(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            RulesDiagnostic(file: file, line: context.mark.line, column: context.mark.column,
                            message: "duplicate key \(duplicates.joined(separator: ", "))")
        default:
            RulesDiagnostic(file: file, line: 1, column: 1, message: "invalid YAML: \(error)")
        }
    }

    func error(_ message: String) -> RulesDiagnostic {
        RulesDiagnostic(file: file, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, message: message)
    }

    func warning(_ message: String) -> RulesDiagnostic {
        var diagnostic = error(message)
        diagnostic.severity = .warning
        return diagnostic
    }

    func mapping() throws(RulesDiagnostic) -> [(key: String, value: YAMLValue)] {
        guard let mapping = node.mapping else { throw error("expected a mapping") }
        var result: [(key: String, value: YAMLValue)] = []
        for (key, value) in mapping {
            guard let name = key.scalar?.string else { throw YAMLValue(node: key, file: file).error("expected a text key") }
            result.append((name, YAMLValue(node: value, file: file)))
        }
        return result
    }

    func sequence() throws(RulesDiagnostic) -> [YAMLValue] {
        guard let sequence = node.sequence else { throw error("expected a list") }
        return sequence.map { YAMLValue(node: $0, file: file) }
    }

    func string() throws(RulesDiagnostic) -> String {
        guard let scalar = node.scalar, !scalar.string.isEmpty else { throw error("expected a text value") }
        return scalar.string
    }

    func int() throws(RulesDiagnostic) -> Int64 {
        guard let scalar = node.scalar, let value = Int64(scalar.string.replacingUnderscores()) else {
            throw error("expected a whole number")
        }
        return value
    }

    /// A whole number within `bounds`: every number in `Rules/` and `Merchants/` has an upper bound, so
    /// no arithmetic on it can overflow inside a write.
    func int(in bounds: ClosedRange<Int64>) throws(RulesDiagnostic) -> Int64 {
        let value = try int()
        guard bounds.contains(value) else {
            throw error("expected a whole number from \(grouped(bounds.lowerBound)) to \(grouped(bounds.upperBound))")
        }
        return value
    }

    func bool() throws(RulesDiagnostic) -> Bool {
        switch node.scalar?.string {
        case "true": return true
        case "false": return false
        default: throw error("expected true or false")
        }
    }

    func double() throws(RulesDiagnostic) -> Double {
        guard let value = node.scalar.flatMap({ Double($0.string) }) else { throw error("expected a number") }
        return value
    }
}

/// Reads a mapping's keys one by one and reports unknown and missing keys at their place.
struct YAMLObject {
    let value: YAMLValue
    private var entries: [(key: String, value: YAMLValue)]
    private var used: Set<String> = []

    init(_ value: YAMLValue) throws(RulesDiagnostic) {
        self.value = value
        self.entries = try value.mapping()
    }

    mutating func optional(_ key: String) -> YAMLValue? {
        used.insert(key)
        return entries.first { $0.key == key }?.value
    }

    mutating func required(_ key: String) throws(RulesDiagnostic) -> YAMLValue {
        guard let found = optional(key) else {
            // A misspelt required key is a slip, not an absence: say which key it resembles.
            // One letter off only: a key not read yet may still be a right one (name_en beside a missing name_ja).
            if let slip = entries.first(where: { !used.contains($0.key) && editDistance($0.key.lowercased(), key.lowercased()) == 1 }),
               let keyNode = value.node.mapping?.first(where: { $0.key.scalar?.string == slip.key })?.key {
                throw YAMLValue(node: keyNode, file: value.file).error("unknown key '\(slip.key)'; did you mean '\(key)'?")
            }
            throw value.error("missing key '\(key)'")
        }
        return found
    }

    /// Call last: a misspelt key ("pointsPerDayMx") must not silently mean "no cap".
    func rejectUnknownKeys() throws(RulesDiagnostic) {
        if let unknown = entries.first(where: { !used.contains($0.key) }) {
            let keyNode = value.node.mapping!.first { $0.key.scalar?.string == unknown.key }!.key
            let expected = "expected one of: \(used.sorted().joined(separator: ", "))"
            let message = if let suggestion = closest(to: unknown.key, among: used) {
                "unknown key '\(unknown.key)'; did you mean '\(suggestion)'? (\(expected))"
            } else {
                "unknown key '\(unknown.key)'; \(expected)"
            }
            throw YAMLValue(node: keyNode, file: value.file).error(message)
        }
    }
}

/// The candidate nearest to `word` by edit distance (ignoring case), if it is near enough to be
/// a slip of the keyboard: at most a third of the word's letters, and at least one, differ.
func closest(to word: String, among candidates: some Collection<String>) -> String? {
    let limit = max(1, word.count / 3)
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.filter { $0.1 <= limit }
    return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
}

/// Levenshtein distance: insertions, deletions and substitutions of one character.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
        var current = [i + 1] + Array(repeating: 0, count: b.count)
        for (j, y) in b.enumerated() {
            current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
