import AyumiCore

/// `benefits.yaml`, `fares.yaml` and `costs.yaml`: what the beneficiary report multiplies its
/// counts by. The three come together: a program with `benefits.yaml` needs the other two.
extension RulesParser {
    public static let benefitsFile = "benefits.yaml"
    public static let faresFile = "fares.yaml"
    public static let costsFile = "costs.yaml"
    static let assessmentFiles = [benefitsFile, faresFile, costsFile]

    /// nil when none of the three files is there.
    /// - Parameter zoneIDs: the program's zones, when zones.geojson reads.
    static func parseAssessment(files: [String: String], displayPrefix: String, zoneIDs: Set<String>?) throws(RulesDiagnostic) -> Assessment? {
        let present = assessmentFiles.filter { files[$0] != nil }
        guard !present.isEmpty else { return nil }
        if let missing = assessmentFiles.first(where: { files[$0] == nil }) {
            throw RulesDiagnostic(file: displayPrefix + missing, line: 1, column: 1,
                                  message: "file is missing: the beneficiary report reads \(assessmentFiles.joined(separator: ", ")) together")
        }
        var benefits = try YAMLObject(YAMLValue.parse(files[benefitsFile]!, file: displayPrefix + benefitsFile))
        let medicalCost = try coefficient(benefits.required("medicalCost"), valueKey: "yenPerStepPerDay")
        let baselineDays = Int(try benefits.required("baselineDays").int(in: 7...366))
        let visitSpend = try coefficient(benefits.required("visitSpend"), valueKey: "yenPerVisit")
        let zonesValue = try benefits.required("downtownZones")
        let downtownZones = try zonesValue.sequence().map { value throws(RulesDiagnostic) in
            let id = try identifier(value)
            if let zoneIDs, !zoneIDs.contains(id) {
                let hint = closest(to: id, among: zoneIDs).map { "; did you mean '\($0)'?" } ?? ""
                throw value.error("unknown zone '\(id)'\(hint) (see zones.geojson)")
            }
            return id
        }
        guard !downtownZones.isEmpty else { throw zonesValue.error("name the zones whose visits are downtown visits, such as [downtown]") }
        let bandsValue = try benefits.required("ageBands")
        let ageBands = try bandsValue.sequence().map { value throws(RulesDiagnostic) in Int(try value.int(in: 1...120)) }
        guard !ageBands.isEmpty, zip(ageBands, ageBands.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw bandsValue.error("the lower bounds of the age bands after the first, ascending: such as [40, 65, 75]")
        }
        try benefits.rejectUnknownKeys()

        var fares = try YAMLObject(YAMLValue.parse(files[faresFile]!, file: displayPrefix + faresFile))
        let faresSource = try localized(fares.required("source"))
        let defaultFare = try fares.required("default").int(in: Bounds.yen)
        var byMode: [String: Int64] = [:]
        for (mode, value) in try fares.optional("modes")?.mapping() ?? [] {
            guard Identifier.isValid(mode) else { throw value.error("a mode is 1-64 letters, digits or -_.:") }
            byMode[mode] = try value.int(in: Bounds.yen)
        }
        try fares.rejectUnknownKeys()

        var costs = try YAMLObject(YAMLValue.parse(files[costsFile]!, file: displayPrefix + costsFile))
        var layers: [Assessment.CostLayer] = []
        for item in try costs.required("layers").sequence() {
            var object = try YAMLObject(item)
            let idValue = try object.required("id")
            let id = try identifier(idValue)
            guard !layers.contains(where: { $0.id == id }) else { throw idValue.error("duplicate layer id '\(id)'") }
            let name = try localized(object.required("name"))
            let yen = try object.required("yenPerMonth").int(in: Bounds.yenPerMonth)
            let paidByValue = try object.required("paidBy")
            var paidBy: [Party: Int64] = [:]
            for (key, value) in try paidByValue.mapping() {
                guard let party = Party(rawValue: key), Party.payers.contains(party) else {
                    let known = Party.payers.map(\.rawValue)
                    let hint = closest(to: key, among: known).map { "; did you mean '\($0)'?" } ?? ""
                    throw value.error("unknown payer '\(key)'\(hint) (one of: \(known.joined(separator: ", ")))")
                }
                paidBy[party] = try value.int(in: 0...100)
            }
            guard paidBy.values.reduce(0, +) == 100 else {
                throw paidByValue.error("the percentages add up to \(paidBy.values.reduce(0, +)), not 100")
            }
            try object.rejectUnknownKeys()
            layers.append(Assessment.CostLayer(id: id, name: name, yenPerMonth: yen, paidBy: paidBy))
        }
        try costs.rejectUnknownKeys()
        return Assessment(medicalCost: medicalCost, baselineDays: baselineDays, visitSpend: visitSpend, downtownZones: downtownZones,
                          ageBands: ageBands, fares: byMode,
                          defaultFare: defaultFare, faresSource: faresSource, costLayers: layers)
    }

    /// `{<valueKey>: 0.061, source: {ja, en}}`: the value exact, at most 6 decimals.
    static func coefficient(_ value: YAMLValue, valueKey: String) throws(RulesDiagnostic) -> Assessment.Coefficient {
        var object = try YAMLObject(value)
        let numberValue = try object.required(valueKey)
        let text = try numberValue.string()
        let decimals = text.split(separator: ".").dropFirst().first.map { $0.count } ?? 0
        guard decimals <= 6, let units = scaled(text, decimals: decimals),
              units <= Bounds.yen.upperBound * ExactDecimal(units: 0, decimals: decimals).denominator else {
            throw numberValue.error("expected a number of yen from 0 to \(Bounds.yen.upperBound) with at most 6 decimals, such as 0.061")
        }
        let source = try localized(object.required("source"))
        try object.rejectUnknownKeys()
        return Assessment.Coefficient(value: ExactDecimal(units: units, decimals: decimals), source: source)
    }
}
