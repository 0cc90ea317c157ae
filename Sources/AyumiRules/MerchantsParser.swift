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
                try object.rejectUnknownKeys()
                merchants.append(Merchant(id: id, name: name, category: category, zoneID: zone, settlementAccount: account, active: active))
            }
            return merchants
        } catch {
            throw RulesCheckFailure(diagnostics: [error])
        }
    }

    public static func load(path: String, ruleset: Ruleset) throws(RulesCheckFailure) -> [Merchant] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RulesCheckFailure(diagnostics: [RulesDiagnostic(file: path, line: 1, column: 1, message: "cannot read the merchants file")],
                                    unreadable: true)
        }
        return try parse(text, file: path, ruleset: ruleset)
    }
}
