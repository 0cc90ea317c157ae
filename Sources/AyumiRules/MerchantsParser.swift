import AyumiCore
import Foundation

/// Reads `Merchants/merchants.yaml`, the registry of shops that accept points, with the same
/// file:line:column diagnostics as the rules.
public enum MerchantsParser {
    public static func parse(_ text: String, file: String, ruleset: Ruleset) throws(RulesCheckFailure) -> [Merchant] {
        do throws(RulesDiagnostic) {
            var root = try YAMLObject(YAMLValue.parse(text, file: file))
            let list = try root.required("merchants").sequence()
            try root.rejectUnknownKeys()
            var merchants: [Merchant] = []
            for item in list {
                var object = try YAMLObject(item)
                let idValue = try object.required("id")
                let id = try RulesParser.identifier(idValue)
                guard !merchants.contains(where: { $0.id == id }) else { throw idValue.error("duplicate merchant id '\(id)'") }
                let name = try RulesParser.localized(object.required("name"))
                let category = try object.required("category").string()
                let zoneValue = try object.required("zone")
                let zone = try zoneValue.string()
                guard ruleset.zone(zone) != nil else { throw zoneValue.error("unknown zone '\(zone)' (see zones.geojson)") }
                let account = try object.required("settlementAccount").string()
                let active = try object.optional("active")?.bool() ?? true
                var perDay: Int64?, perResident: Int64?
                if let limitsValue = object.optional("limits") {
                    var limits = try YAMLObject(limitsValue)
                    perDay = try limits.optional("pointsPerDay")?.int(in: Bounds.limitPoints)
                    perResident = try limits.optional("pointsPerResidentPerDay")?.int(in: Bounds.limitPoints)
                    try limits.rejectUnknownKeys()
                }
                try object.rejectUnknownKeys()
                merchants.append(Merchant(id: id, name: name, category: category, zoneID: zone, settlementAccount: account, active: active,
                                          pointsPerDayMax: perDay, pointsPerResidentPerDayMax: perResident))
            }
            return merchants
        } catch {
            throw RulesCheckFailure(diagnostics: [error])
        }
    }

    /// The columns of a merchants CSV, in order (`ayumi merchants export --format csv` writes them).
    public static let csvColumns = ["id", "name_ja", "name_en", "category", "zone", "settlement_account", "points_per_day",
                                    "points_per_resident_per_day", "active"]

    /// Reads a merchants CSV (RFC 4180; UTF-8, with or without a byte order mark; a header row of
    /// `csvColumns`; `points_per_day`, `points_per_resident_per_day` and `active` may be empty).
    /// Errors name file:line:column.
    public static func parseCSV(_ text: String, file: String, ruleset: Ruleset) throws(RulesCheckFailure) -> [Merchant] {
        do throws(RulesDiagnostic) {
            let rows = try CSV.rows(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text, file: file)
            guard let header = rows.first, header.fields.map(\.text) == csvColumns else {
                throw RulesDiagnostic(file: file, line: 1, column: 1, message: "the header must be: \(csvColumns.joined(separator: ","))")
            }
            var merchants: [Merchant] = []
            for row in rows.dropFirst() where !(row.fields.count == 1 && row.fields[0].text.isEmpty) {
                guard row.fields.count == csvColumns.count else {
                    throw RulesDiagnostic(file: file, line: row.line, column: 1,
                                          message: "expected \(csvColumns.count) fields, found \(row.fields.count)")
                }
                // Text cells as `csv` neutralised them, given back.
                func field(_ index: Int) -> CSV.Field {
                    var field = row.fields[index]
                    if index <= 5 { field.text = CSVDocument.restored(field.text) }
                    return field
                }
                func error(_ index: Int, _ message: String) -> RulesDiagnostic {
                    RulesDiagnostic(file: file, line: field(index).line, column: field(index).column, message: message)
                }
                let id = field(0).text
                guard Identifier.isValid(id) else { throw error(0, "expected an identifier (1-64 letters, digits or -_.:)") }
                guard !merchants.contains(where: { $0.id == id }) else { throw error(0, "duplicate merchant id '\(id)'") }
                for index in 1...5 where field(index).text.isEmpty { throw error(index, "\(csvColumns[index]) is empty") }
                guard ruleset.zone(field(4).text) != nil else { throw error(4, "unknown zone '\(field(4).text)' (see zones.geojson)") }
                func limit(_ index: Int) throws(RulesDiagnostic) -> Int64? {
                    guard !field(index).text.isEmpty else { return nil }
                    guard let value = Int64(field(index).text), Bounds.limitPoints.contains(value) else {
                        throw error(index, "expected a whole number from 1 to \(grouped(Bounds.limitPoints.upperBound)), or nothing")
                    }
                    return value
                }
                let active: Bool
                switch field(8).text {
                case "", "true": active = true
                case "false": active = false
                default: throw error(8, "expected true, false or nothing")
                }
                merchants.append(Merchant(id: id, name: LocalizedText(ja: field(1).text, en: field(2).text), category: field(3).text,
                                          zoneID: field(4).text, settlementAccount: field(5).text, active: active,
                                          pointsPerDayMax: try limit(6), pointsPerResidentPerDayMax: try limit(7)))
            }
            return merchants
        } catch {
            throw RulesCheckFailure(diagnostics: [error])
        }
    }

    /// The merchants as CSV (`CSVDocument`): text cells neutralised so that a spreadsheet runs none of
    /// them as a formula, and restored by `parseCSV`, so the file imports back unchanged.
    public static func csv(_ merchants: [Merchant]) -> String {
        CSVDocument.text([csvColumns] + merchants.map { merchant in
            [merchant.id, merchant.name.ja, merchant.name.en, merchant.category, merchant.zoneID, merchant.settlementAccount].map(CSVDocument.neutralised)
                + [merchant.pointsPerDayMax.map(String.init) ?? "", merchant.pointsPerResidentPerDayMax.map(String.init) ?? "",
                   merchant.active ? "true" : "false"]
        })
    }

    /// The merchants in the registry file's own form (`Merchants/merchants.yaml`).
    public static func yaml(_ merchants: [Merchant]) -> String {
        func text(_ value: String) -> String { "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var lines = ["merchants:"]
        for merchant in merchants {
            lines += ["  - id: \(text(merchant.id))", "    name:", "      ja: \(text(merchant.name.ja))", "      en: \(text(merchant.name.en))",
                      "    category: \(text(merchant.category))", "    zone: \(text(merchant.zoneID))",
                      "    settlementAccount: \(text(merchant.settlementAccount))"]
            if !merchant.active { lines.append("    active: false") }
            if merchant.pointsPerDayMax != nil || merchant.pointsPerResidentPerDayMax != nil {
                lines.append("    limits:")
                if let perDay = merchant.pointsPerDayMax { lines.append("      pointsPerDay: \(perDay)") }
                if let perResident = merchant.pointsPerResidentPerDayMax { lines.append("      pointsPerResidentPerDay: \(perResident)") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func load(path: String, ruleset: Ruleset) throws(RulesCheckFailure) -> [Merchant] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RulesCheckFailure(diagnostics: [RulesDiagnostic(file: path, line: 1, column: 1, message: "cannot read the merchants file")],
                                    unreadable: true)
        }
        return try parse(text, file: path, ruleset: ruleset)
    }
}
