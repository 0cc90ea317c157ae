/// Identifiers chosen outside Ayumi (a resident's pseudonymous id, an event id chosen by its source)
/// are opaque strings with one shared limit, so no table or log line can be flooded by them.
public enum Identifier {
    public static let lengthMax = 64

    /// Letters, digits and `-_.:` only: safe in URLs, CSV cells and log metadata without escaping.
    public static func isValid(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= lengthMax else { return false }
        return value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x3A
        }
    }
}

/// A text shown to people, in both languages Ayumi serves.
public struct LocalizedText: Sendable, Hashable, Codable {
    public var ja: String
    public var en: String

    public init(ja: String, en: String) {
        self.ja = ja
        self.en = en
    }

    public func text(_ language: Language) -> String {
        switch language {
        case .ja: ja
        case .en: en
        }
    }
}

public enum Language: String, Sendable, Codable, CaseIterable {
    case ja, en

    /// Picks Japanese when the first language range of an `Accept-Language` header is Japanese.
    public init(acceptLanguage: String?) {
        let first = acceptLanguage?.split(separator: ",").first?.trimmingCharactersInSpaces().lowercased() ?? ""
        self = first.hasPrefix("ja") ? .ja : .en
    }
}

extension Substring {
    func trimmingCharactersInSpaces() -> Substring {
        var result = self
        while result.first == " " { result.removeFirst() }
        while result.last == " " { result.removeLast() }
        return result
    }
}

/// 1000000 → "1,000,000", as the README and every report write numbers; `signed` writes "+" before
/// a positive number (a change).
public func grouped(_ value: Int64, signed: Bool = false) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return (value < 0 ? "-" : (signed && value > 0 ? "+" : "")) + result
}
