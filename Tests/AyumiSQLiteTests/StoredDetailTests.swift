@testable import AyumiSQLite
import AyumiStore
import Foundation
import Testing

@Suite("Stored event detail")
struct StoredDetailTests {
    @Test("any text becomes a JSON string that parses back to itself", arguments: [
        "phone", #"say "hi""#, #"back\slash"#, "line\nbreak\u{1}", "歩数計",
    ])
    func jsonStrings(text: String) throws {
        let parsed = try JSONSerialization.jsonObject(with: Data("[\(jsonString(text))]".utf8)) as? [String]
        #expect(parsed == [text])
    }
}
