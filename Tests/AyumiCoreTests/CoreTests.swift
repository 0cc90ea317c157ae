import AyumiCore
import Foundation
import Testing

@Suite("Local days")
struct LocalDateTests {
    @Test("parses only YYYY-MM-DD of real days", arguments: [
        ("2026-11-25", true), ("2024-02-29", true), ("2026-02-29", false), ("2026-13-01", false),
        ("2026-1-01", false), ("26-11-25", false), ("2026-11-25T00:00", false), ("", false),
    ])
    func parsing(text: String, valid: Bool) {
        #expect((LocalDate(text) != nil) == valid)
    }

    @Test("day numbers round-trip and count from 1970-01-01")
    func dayNumbers() {
        #expect(LocalDate("1970-01-01")!.dayNumber == 0)
        for number in stride(from: -1000, to: 40_000, by: 37) {
            #expect(LocalDate(dayNumber: number).dayNumber == number)
        }
        #expect(LocalDate("2026-12-31")!.adding(days: 1) == LocalDate("2027-01-01"))
    }

    @Test("adding months clamps to the end of the month")
    func months() {
        #expect(LocalDate("2026-01-31")!.adding(months: 1) == LocalDate("2026-02-28"))
        #expect(LocalDate("2026-11-25")!.adding(months: 12) == LocalDate("2027-11-25"))
    }

    @Test("arithmetic past the parsable years does not trap")
    func farDates() {
        let last = LocalDate("9999-12-31")!
        #expect(last.adding(months: 12).description == "10000-12-31")
        #expect(last.adding(months: 12).adding(days: -1).dayNumber == last.dayNumber + 365)
        #expect(LocalDate(dayNumber: -800_000).adding(months: 1).year < 0)
    }

    @Test("a day is cut at local midnight, not UTC midnight")
    func localMidnight() {
        let tokyo = TimeZone(identifier: "Asia/Tokyo")!
        // 2026-11-25T15:30Z is 00:30 on the 26th in Tokyo.
        let instant = Date(timeIntervalSince1970: 1_795_575_600 + 12.5 * 3600)
        #expect(LocalDate(instant: instant, timeZone: tokyo) == LocalDate("2026-11-26"))
        #expect(LocalDate(instant: instant, timeZone: TimeZone(identifier: "UTC")!) == LocalDate("2026-11-25"))
    }

    @Test("weekday of a known Wednesday")
    func weekday() {
        #expect(LocalDate("2026-11-25")!.weekday == 3)
    }
}

@Suite("Largest remainder split")
struct SplitTests {
    @Test("parts always add up to the whole", arguments: [Int64(0), 1, 2, 3, 7, 100, 999_999])
    func sums(points: Int64) {
        for weights: [Int64] in [[1], [1, 1], [1, 2], [3, 3, 1], [5, 7, 11, 13]] {
            let parts = largestRemainderSplit(points: points, weights: weights, tieBreak: weights.indices.map { UInt64($0) })
            #expect(parts.reduce(0, +) == points)
            #expect(parts.allSatisfy { $0 >= 0 })
        }
    }

    @Test("1-point awards funded half and half land on both sponsors about evenly")
    func fairTies() {
        var first = 0
        for index in 0..<1_000 {
            let tie = [stableHash("e-\(index)\u{0}a"), stableHash("e-\(index)\u{0}b")]
            first += Int(largestRemainderSplit(points: 1, weights: [1, 1], tieBreak: tie)[0])
        }
        #expect((400...600).contains(first))
    }

    @Test("the tie-break hash is FNV-1a, the same in every process and on every machine", arguments: [
        ("", UInt64(0xcbf2_9ce4_8422_2325)), ("a", 0xaf63_dc4c_8601_ec8c), ("foobar", 0x8594_4171_f739_67e8),
    ])
    func stableHashVectors(text: String, hash: UInt64) {
        #expect(stableHash(text) == hash)
    }

    static let pinnedSplits: [(String, [Int64])] = [("e-0", [0, 1]), ("e-1", [0, 1]), ("e-2", [1, 0]), ("e-3", [1, 0]), ("e-4", [0, 1])]

    @Test("the same event splits the same way every time: pinned splits of 1-point half-and-half awards", arguments: pinnedSplits)
    func deterministic(eventID: String, parts: [Int64]) {
        let tie = [stableHash(eventID + "\u{0}a"), stableHash(eventID + "\u{0}b")]
        #expect(largestRemainderSplit(points: 1, weights: [1, 1], tieBreak: tie) == parts)
    }

    static let remainderCases: [(Int64, [Int64], [Int64])] = [(7, [2, 1], [5, 2]), (10, [1, 1, 1], [4, 3, 3]), (5, [3, 3, 1], [2, 2, 1])]

    @Test("the largest remainder goes to the largest fraction", arguments: remainderCases)
    func remainders(points: Int64, weights: [Int64], parts: [Int64]) {
        #expect(largestRemainderSplit(points: points, weights: weights, tieBreak: weights.indices.map { UInt64($0) }) == parts)
    }
}

@Suite("Language")
struct LanguageTests {
    @Test("Accept-Language picks Japanese only when Japanese comes first", arguments: [
        (String?("ja"), Language.ja), ("ja-JP,en;q=0.8", .ja), ("en-US,ja;q=0.5", .en), (nil, .en), ("fr", .en),
    ])
    func pick(header: String?, language: Language) {
        #expect(Language(acceptLanguage: header) == language)
    }

    @Test("identifiers are 1-64 safe characters", arguments: [
        ("r-123", true), ("bench:7.a_b", true), ("", false), ("a b", false), ("名前", false), (String(repeating: "x", count: 65), false),
    ])
    func identifiers(text: String, valid: Bool) {
        #expect(Identifier.isValid(text) == valid)
    }
}
