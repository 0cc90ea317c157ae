import AyumiCore

/// One earning rule file → `EarningRule`, with every problem located at its value. The keys of
/// the first rule language (`event`, `stepsMin`, `modes`, `zones`, `perBand`, `caps`, funding
/// weights) are still read, as the same data, so a city's older files keep their meaning.
extension RulesParser {
    static func parseRule(_ text: String, file: String, context: RuleContext, warnings: inout [RulesDiagnostic]) throws(RulesDiagnostic)
        -> EarningRule {
        var object = try YAMLObject(YAMLValue.parse(text, file: file))
        let idValue = try object.required("id")
        let id = try identifier(idValue)
        // Prizes of draws are recorded under `draw:ID`.
        guard !id.hasPrefix("draw:") else { throw idValue.error("a rule id cannot start with 'draw:' (the ledger's name for prizes of draws)") }
        let (trigger, computed, triggerValue) = try parseTrigger(&object)
        if context.submitters?[trigger.rawValue]?.isEmpty == true {
            warnings.append(triggerValue.warning("this rule can never fire: program.yaml's submitters accept \(trigger.rawValue) events from no one"))
        }
        let name = try localized(object.required("name"))
        let group = try object.optional("group").map { v throws(RulesDiagnostic) in try parseGroup(v) }

        var reader = ConditionReader(trigger: trigger, context: context)
        let condition = try object.optional("conditions").map { v throws(RulesDiagnostic) in try reader.all(v) } ?? .always
        warnings += reader.warnings

        let pointsValue = try object.required("points")
        let points = try parsePoints(pointsValue, trigger: trigger, context: context, warnings: &warnings)
        if computed != nil, case .fixed = points {} else if computed != nil {
            throw pointsValue.error("a streak or milestone pays fixed points")
        }
        let limits = try parseLimits(&object, smallest: points.smallestAward, context: context)
        let (funding, fundingValue) = try parseFunding(object.required("funding"), context: context)
        try checkAwardMax(ruleID: id, points: points, pointsValue: pointsValue, limits: limits, funding: funding, fundingValue: fundingValue,
                          context: context)
        let reason = try localized(object.required("reason"))
        let pendingValue = object.optional("pendingDays")
        let pendingDays = try pendingValue.map { v throws(RulesDiagnostic) in Int(try v.int(in: Bounds.pendingDays)) } ?? 0
        if let pendingValue, let months = context.pointExpiryMonths, pendingDays >= months * 28 {
            throw pendingValue.error("points held \(pendingDays) days could expire before they are released (pointExpiryMonths: \(months)): hold them fewer days")
        }
        try object.rejectUnknownKeys()
        return EarningRule(id: id, trigger: trigger, name: name, group: group, condition: condition, points: points, limits: limits,
                           funding: funding, reason: reason, pendingDays: pendingDays, computed: computed)
    }

    /// The event kind a rule listens to; computed triggers (streaks, milestones) make progress on the
    /// events of a kind and pay when a goal is reached.
    static func parseTrigger(_ object: inout YAMLObject) throws(RulesDiagnostic)
        -> (trigger: Event.Kind, computed: EarningRule.Computed?, value: YAMLValue) {
        let triggerValue: YAMLValue
        switch (object.optional("trigger"), object.optional("event")) {
        case (let value?, nil), (nil, let value?): triggerValue = value
        case (_?, let other?): throw other.error("write 'trigger' only ('event' is its older name)")
        case (nil, nil): triggerValue = try object.required("trigger")
        }
        switch try triggerValue.string() {
        case "streak":
            var streak = try YAMLObject(object.required("streak"))
            let computed = EarningRule.Computed.streak(days: Int(try streak.required("days").int(in: Bounds.streakDays)))
            try streak.rejectUnknownKeys()
            return (.walk, computed, triggerValue)
        case "milestone":
            var milestone = try YAMLObject(object.required("milestone"))
            let parsed: (Event.Kind, EarningRule.Computed)
            switch (milestone.optional("steps"), milestone.optional("rides")) {
            case (let steps?, nil): parsed = (.walk, .milestoneSteps(try steps.int(in: Bounds.milestoneSteps)))
            case (nil, let rides?): parsed = (.transitTap, .milestoneRides(try rides.int(in: Bounds.milestoneRides)))
            default: throw milestone.value.error("a milestone counts steps: N or rides: N (one of them)")
            }
            try milestone.rejectUnknownKeys()
            return (parsed.0, parsed.1, triggerValue)
        case let text:
            guard let kind = Event.Kind(rawValue: text) else {
                throw triggerValue.error("trigger must be one of: \((Event.Kind.allCases.map(\.rawValue) + ["streak", "milestone"]).joined(separator: ", "))")
            }
            return (kind, nil, triggerValue)
        }
    }

    /// A group of rules of which only the largest award is paid; its id.
    static func parseGroup(_ value: YAMLValue) throws(RulesDiagnostic) -> String {
        var object = try YAMLObject(value)
        let id = try identifier(object.required("id"))
        let pick = try object.required("pick")
        guard try pick.string() == "best" else { throw pick.error("pick must be 'best' (the group awards only its largest award)") }
        try object.rejectUnknownKeys()
        return id
    }

    /// `limits`, and the first language's `caps`, which mean the same daily limits.
    static func parseLimits(_ object: inout YAMLObject, smallest: Int64, context: RuleContext) throws(RulesDiagnostic) -> [Limit] {
        var limits: [Limit] = []
        if let capsValue = object.optional("caps") {
            var caps = try YAMLObject(capsValue)
            if let capValue = caps.optional("pointsPerDayMax") {
                let cap = try capValue.int(in: Bounds.pointsPerDay)
                guard cap >= smallest else {
                    throw capValue.error("pointsPerDayMax \(grouped(cap)) is lower than this rule's smallest award (\(grouped(smallest)) "
                                         + "points), so every award would be cut: write at least \(grouped(smallest)), or lower the points")
                }
                limits.append(Limit(scope: .resident, period: .day, metric: .points, max: cap))
            }
            if let capValue = caps.optional("countPerDayMax") {
                limits.append(Limit(scope: .resident, period: .day, metric: .count, max: try capValue.int(in: Bounds.countPerDay)))
            }
            try caps.rejectUnknownKeys()
        }
        if let limitsValue = object.optional("limits") {
            for item in try limitsValue.sequence() {
                limits.append(try parseLimit(item, smallest: smallest, campaigns: context.campaigns))
            }
        }
        return limits
    }

    /// The most one event can earn under the rule (its largest award, boosted by its campaigns, within
    /// its limits in points) is bounded, and splits among the sponsors without overflowing.
    static func checkAwardMax(ruleID: String, points: EarningRule.Points, pointsValue: YAMLValue, limits: [Limit], funding: [FundingWeight],
                              fundingValue: YAMLValue, context: RuleContext) throws(RulesDiagnostic) {
        // A campaign multiplies the points before the limits apply.
        let percent = context.campaigns.filter { $0.rules.contains(ruleID) }.map(\.percent).max() ?? 100
        let (boosted, overflow) = points.largestAward(stepsPerDayMax: context.stepsPerDayMax).multipliedReportingOverflow(by: percent)
        // A campaign's limit binds only on its days: it does not bound the award on the others.
        let awardMax = min(overflow ? .max : boosted / 100, limits.filter { $0.metric == .points && $0.period != .campaign }.map(\.max).min() ?? .max)
        guard awardMax <= Bounds.pointsPerAwardMax else {
            throw pointsValue.error("one event could earn \(grouped(awardMax)) points under this rule (a walk of \(grouped(context.stepsPerDayMax)) "
                                    + "steps); at most \(grouped(Bounds.pointsPerAwardMax)): lower the points or add a limit in points")
        }
        guard splitFits(pointsMax: awardMax, weights: funding.map(\.weight)) else {
            throw fundingValue.error("splitting \(grouped(awardMax)) points by these weights would overflow")
        }
    }

    static func parsePoints(_ value: YAMLValue, trigger: Event.Kind, context: RuleContext, warnings: inout [RulesDiagnostic])
        throws(RulesDiagnostic) -> EarningRule.Points {
        var object = try YAMLObject(value)
        let formulas = try value.mapping().map(\.key).filter { ["fixed", "perBand", "per", "bands"].contains($0) }
        guard formulas.count <= 1 else { throw value.error("write one formula only, not \(formulas.joined(separator: " and "))") }
        let points: EarningRule.Points
        func walkOnly(_ value: YAMLValue, _ key: String) throws(RulesDiagnostic) {
            guard trigger == .walk else { throw value.error("\(key) counts steps, so it applies to walk rules only; write fixed: N") }
        }
        func unit(_ value: YAMLValue) throws(RulesDiagnostic) -> Int64 {
            let steps = try value.int(in: Bounds.stepsPerDay)
            if steps > context.stepsPerDayMax {
                warnings.append(value.warning("this rule can never award points: one unit is \(grouped(steps)) steps, more than "
                                              + "the program's stepsPerDayMax (\(grouped(context.stepsPerDayMax)))"))
            }
            return steps
        }
        if let fixed = object.optional("fixed") {
            points = .fixed(try fixed.int(in: Bounds.fixedPoints))
        } else if let bandValue = object.optional("perBand") {
            try walkOnly(bandValue, "perBand")
            var band = try YAMLObject(bandValue)
            points = .per(unit: try unit(band.required("steps")), points: try band.required("points").int(in: Bounds.bandPoints), round: .down)
            try band.rejectUnknownKeys()
        } else if let perValue = object.optional("per") {
            try walkOnly(perValue, "per")
            var per = try YAMLObject(perValue)
            let steps = try unit(per.required("steps"))
            let award = try per.required("points").int(in: Bounds.bandPoints)
            let roundValue = try per.required("round")
            guard let round = EarningRule.Rounding(rawValue: try roundValue.string()) else {
                throw roundValue.error("round must be one of: \(EarningRule.Rounding.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            points = .per(unit: steps, points: award, round: round)
            try per.rejectUnknownKeys()
        } else if let bandsValue = object.optional("bands") {
            try walkOnly(bandsValue, "bands")
            var bands: [EarningRule.Band] = []
            for item in try bandsValue.sequence() {
                var band = try YAMLObject(item)
                let stepsValue = try band.required("steps")
                let steps = try stepsValue.int(in: Bounds.stepsPerDay)
                let pointsValue = try band.required("points")
                let award = try pointsValue.int(in: Bounds.bandPoints)
                try band.rejectUnknownKeys()
                if let previous = bands.last {
                    guard steps > previous.steps else {
                        throw stepsValue.error("this band (from \(grouped(steps)) steps) overlaps the one before it (from "
                                               + "\(grouped(previous.steps))): list bands by increasing steps")
                    }
                    guard award > previous.points else {
                        throw pointsValue.error("a band of more steps must earn more than the one before it (\(grouped(previous.points)) points)")
                    }
                }
                if steps > context.stepsPerDayMax {
                    warnings.append(stepsValue.warning("this band can never be reached: it starts above the program's stepsPerDayMax "
                                                       + "(\(grouped(context.stepsPerDayMax)))"))
                }
                bands.append(EarningRule.Band(steps: steps, points: award))
            }
            guard !bands.isEmpty else { throw bandsValue.error("list at least one band") }
            points = .bands(bands)
        } else {
            throw value.error("points needs one of: fixed, per, bands (or the older perBand)")
        }
        try object.rejectUnknownKeys()
        return points
    }

    /// `{per: day, points: 5}`, `{per: week, count: 3}`, `{per: day, points: 1_000, scope: program}`.
    static func parseLimit(_ value: YAMLValue, smallest: Int64, campaigns: [Campaign]) throws(RulesDiagnostic) -> Limit {
        var object = try YAMLObject(value)
        let periodValue = try object.required("per")
        guard let period = Limit.Period(rawValue: try periodValue.string()) else {
            throw periodValue.error("per must be one of: \(Limit.Period.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var campaign: String?
        if period == .campaign {
            let campaignValue = try object.required("campaign")
            let id = try campaignValue.string()
            guard campaigns.contains(where: { $0.id == id }) else {
                let hint = closest(to: id, among: campaigns.map(\.id)).map { "; did you mean '\($0)'?" } ?? " (see campaigns.yaml)"
                throw campaignValue.error("unknown campaign '\(id)'\(hint)")
            }
            campaign = id
        }
        var scope = Limit.Scope.resident
        if let scopeValue = object.optional("scope") {
            guard let parsed = Limit.Scope(rawValue: try scopeValue.string()) else {
                throw scopeValue.error("scope must be one of: \(Limit.Scope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            scope = parsed
        }
        let (pointsValue, countValue) = (object.optional("points"), object.optional("count"))
        try object.rejectUnknownKeys()
        let limit: Limit
        switch (pointsValue, countValue) {
        case (let pointsValue?, nil):
            let max = try pointsValue.int(in: Bounds.limitPoints)
            guard max >= smallest else {
                throw pointsValue.error("a limit of \(grouped(max)) points is lower than this rule's smallest award (\(grouped(smallest)) "
                                        + "points), so every award would be cut: write at least \(grouped(smallest)), or lower the points")
            }
            limit = Limit(scope: scope, period: period, metric: .points, max: max, campaign: campaign)
        case (nil, let countValue?):
            limit = Limit(scope: scope, period: period, metric: .count, max: try countValue.int(in: Bounds.limitCount), campaign: campaign)
        case (_?, _?): throw value.error("a limit counts points or awards, not both: write two limits")
        case (nil, nil): throw value.error("a limit needs points: N or count: N")
        }
        return limit
    }

    /// `sponsor: 50%` shares, which must add up to 100%, or the older integer weights.
    static func parseFunding(_ value: YAMLValue, context: RuleContext) throws(RulesDiagnostic) -> ([FundingWeight], YAMLValue) {
        var funding: [FundingWeight] = []
        var percents = 0, total: Int64 = 0
        for (sponsorID, weightValue) in try value.mapping() {
            if let known = context.sponsorIDs, !known.contains(sponsorID) {
                throw weightValue.error("unknown sponsor '\(sponsorID)' (see sponsors.yaml)")
            }
            let weight: Int64
            if let text = weightValue.node.scalar?.string, text.hasSuffix("%") {
                guard let percent = Int64(text.dropLast()), (1...100).contains(percent) else {
                    throw weightValue.error("expected a whole percentage from 1% to 100%")
                }
                weight = percent
                percents += 1
            } else {
                weight = try weightValue.int(in: Bounds.fundingWeight)
            }
            total += weight
            funding.append(FundingWeight(sponsorID: sponsorID, weight: weight))
        }
        guard !funding.isEmpty else { throw value.error("at least one sponsor must fund the rule") }
        guard funding.count <= Bounds.sponsorsPerRuleMax else {
            throw value.error("at most \(Bounds.sponsorsPerRuleMax) sponsors fund one rule")
        }
        if percents > 0 {
            guard percents == funding.count else { throw value.error("write every share as a percentage, or none") }
            guard total == 100 else { throw value.error("the shares add up to \(total)%, not 100%") }
        }
        return (funding, value)
    }
}

extension EarningRule.Points {
    /// The least a day or an event can earn when the rule pays at all.
    var smallestAward: Int64 {
        switch self {
        case .fixed(let points): points
        case .per(_, let points, _): points
        case .bands(let bands): bands.first!.points
        }
    }

    /// The most one event can earn (a walk of `stepsPerDayMax`), overflow-checked since the
    /// inputs are what is being checked.
    func largestAward(stepsPerDayMax: Int64) -> Int64 {
        switch self {
        case .fixed(let points): return points
        case .per(let unit, let points, let round):
            let units = switch round {
            case .down: stepsPerDayMax / unit
            case .up: (stepsPerDayMax + unit - 1) / unit
            case .nearest: (2 * stepsPerDayMax + unit) / (2 * unit)
            }
            let (product, overflow) = units.multipliedReportingOverflow(by: points)
            return overflow ? .max : product
        case .bands(let bands): return bands.last!.points
        }
    }
}

/// Reads `conditions:` into a tree. A mapping of predicates means all of them; `all`, `any` and
/// `not` nest.
struct ConditionReader {
    let trigger: Event.Kind
    let context: RulesParser.RuleContext
    var warnings: [RulesDiagnostic] = []

    static let keys = ["all", "any", "not", "steps", "stepsMin", "mode", "modes", "operator", "route", "stop", "zone", "zones", "time", "days",
                       "dates", "age", "district", "enrolledDays", "tags", "consent"]

    mutating func all(_ value: YAMLValue) throws(RulesDiagnostic) -> Condition {
        var conditions: [Condition] = []
        for (key, item) in try value.mapping() {
            conditions.append(try predicate(key, item, in: value))
        }
        return conditions.count == 1 ? conditions[0] : .all(conditions)
    }

    mutating func predicate(_ key: String, _ value: YAMLValue, in parent: YAMLValue) throws(RulesDiagnostic) -> Condition {
        func only(_ kinds: Event.Kind...) throws(RulesDiagnostic) {
            guard kinds.contains(trigger) else {
                throw value.error("\(key) applies to \(kinds.map(\.rawValue).joined(separator: " and ")) rules only")
            }
        }
        func list() throws(RulesDiagnostic) -> [String] {
            let values = try value.sequence().map { v throws(RulesDiagnostic) in try v.string() }
            if values.isEmpty { warnings.append(value.warning("this rule can never fire: \(key) lists nothing")) }
            return values
        }
        switch key {
        case "all", "any":
            var branches: [Condition] = []
            for item in try value.sequence() { branches.append(try all(item)) }
            if branches.isEmpty { throw value.error("\(key) needs at least one condition") }
            return key == "all" ? .all(branches) : .any(branches)
        case "not":
            return .not(try all(value))
        case "steps":
            try only(.walk)
            let (min, max) = try range(value, bounds: Bounds.stepsPerDay)
            if let min, min > context.stepsPerDayMax { warnStepsAbove(min, value) }
            return .steps(min: min, max: max)
        case "stepsMin":
            try only(.walk)
            let min = try value.int(in: Bounds.stepsPerDay)
            if min > context.stepsPerDayMax { warnStepsAbove(min, value) }
            return .steps(min: min, max: nil)
        case "mode", "modes":
            try only(.transitTap)
            return .mode(try list())
        case "operator":
            try only(.transitTap)
            let operators = try list()
            warnIfNoFeed(operators, value)
            return .transitOperator(operators)
        case "route":
            try only(.transitTap)
            return .route(try list())
        case "stop":
            try only(.transitTap)
            return .stop(try list())
        case "zone", "zones":
            try only(.visit)
            return .zone(try zones(value))
        case "time":
            try only(.transitTap, .visit)
            var object = try YAMLObject(value)
            let from = try clock(object.required("from")), to = try clock(object.required("to"))
            try object.rejectUnknownKeys()
            guard from != to else { throw value.error("the window is empty: from and to are the same time") }
            return .time(from: from, to: to)
        case "days":
            return .days(try dayKinds(value))
        case "dates":
            let (from, to) = try dates(value)
            return .dates(from: from, to: to)
        case "age":
            let (min, max) = try range(value, bounds: 0...150)
            return .age(min: min.map(Int.init), max: max.map(Int.init))
        case "district":
            return .district(try list())
        case "tags":
            let tags = try value.sequence().map { v throws(RulesDiagnostic) in try RulesParser.identifier(v) }
            if tags.isEmpty { warnings.append(value.warning("this rule can never fire: tags lists nothing")) }
            return .tags(tags)
        case "consent":
            return .consent(try value.sequence().map { v throws(RulesDiagnostic) in try RulesParser.identifier(v) })
        case "enrolledDays":
            let (min, max) = try range(value, bounds: 0...36_600)
            return .enrolledDays(min: min.map(Int.init), max: max.map(Int.init))
        default:
            throw unknownCondition(key, value, in: parent)
        }
    }

    /// Operators are the ingest feeds taps come from: naming none that program.yaml accepts taps from
    /// means the rule never fires.
    mutating func warnIfNoFeed(_ operators: [String], _ value: YAMLValue) {
        guard let permitted = context.submitters?[Event.Kind.transitTap.rawValue], !permitted.contains(.anyFeed) else { return }
        let feeds = permitted.compactMap { if case .feed(let name) = $0 { name } else { nil } }
        if !operators.isEmpty, operators.allSatisfy({ !feeds.contains($0) }) {
            warnings.append(value.warning("this rule can never fire: the operator is the ingest feed a tap comes from, "
                                          + "and program.yaml accepts transit_tap only from \(permitted.map(\.description).joined(separator: ", "))"))
        }
    }

    /// Zone ids, each one of zones.geojson.
    mutating func zones(_ value: YAMLValue) throws(RulesDiagnostic) -> [String] {
        var ids: [String] = []
        for item in try value.sequence() {
            let zone = try item.string()
            if let known = context.zoneIDs, !known.contains(zone) {
                let hint = closest(to: zone, among: known).map { "; did you mean '\($0)'?" } ?? " (see zones.geojson)"
                throw item.error("unknown zone '\(zone)'\(hint)")
            }
            ids.append(zone)
        }
        if ids.isEmpty { warnings.append(value.warning("this rule can never fire: no zone is listed")) }
        return ids
    }

    mutating func dayKinds(_ value: YAMLValue) throws(RulesDiagnostic) -> [DayKind] {
        var kinds: [DayKind] = []
        for item in try value.sequence() {
            guard let kind = DayKind(rawValue: try item.string()) else {
                throw item.error("expected one of: \(DayKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kinds.append(kind)
        }
        if kinds.isEmpty { warnings.append(value.warning("this rule can never fire: days lists nothing")) }
        return kinds
    }

    /// A window of dates, either end open; a warning when it lies outside the program's days.
    mutating func dates(_ value: YAMLValue) throws(RulesDiagnostic) -> (from: LocalDate?, to: LocalDate?) {
        var object = try YAMLObject(value)
        let from = try object.optional("from").map { v throws(RulesDiagnostic) in try date(v) }
        let toValue = object.optional("to")
        let to = try toValue.map { v throws(RulesDiagnostic) in try date(v) }
        try object.rejectUnknownKeys()
        if let from, let to, to < from { throw (toValue ?? value).error("the window ends (\(to)) before it starts (\(from))") }
        if let program = context.program, from.flatMap({ start in program.runsTo.map { start > $0 } }) ?? false
            || to.flatMap({ end in program.runsFrom.map { end < $0 } }) ?? false {
            warnings.append(value.warning("this rule can never fire: the window lies outside the program's days "
                                          + "(program.yaml runs \(program.runsText))"))
        }
        return (from, to)
    }

    /// An unknown key, located at the key itself, with the closest known one suggested.
    func unknownCondition(_ key: String, _ value: YAMLValue, in parent: YAMLValue) -> RulesDiagnostic {
        let keyNode = parent.node.mapping?.first { $0.key.scalar?.string == key }?.key
        let located = keyNode.map { YAMLValue(node: $0, file: value.file) } ?? value
        let expected = "expected one of: \(Self.keys.joined(separator: ", "))"
        if let suggestion = closest(to: key, among: Self.keys) {
            return located.error("unknown condition '\(key)'; did you mean '\(suggestion)'? (\(expected))")
        }
        return located.error("unknown condition '\(key)'; \(expected)")
    }

    mutating func warnStepsAbove(_ min: Int64, _ value: YAMLValue) {
        warnings.append(value.warning("this rule can never fire: at least \(grouped(min)) steps is above the program's "
                                      + "stepsPerDayMax (\(grouped(context.stepsPerDayMax))), and longer walks are rejected"))
    }

    func range(_ value: YAMLValue, bounds: ClosedRange<Int64>) throws(RulesDiagnostic) -> (Int64?, Int64?) {
        var object = try YAMLObject(value)
        let min = try object.optional("min")?.int(in: bounds)
        let maxValue = object.optional("max")
        let max = try maxValue?.int(in: bounds)
        try object.rejectUnknownKeys()
        guard min != nil || max != nil else { throw value.error("write min, max or both") }
        if let min, let max, max < min { throw maxValue!.error("max \(grouped(max)) is below min \(grouped(min))") }
        return (min, max)
    }

    /// `HH:MM`, 00:00 to 24:00, in minutes after midnight.
    func clock(_ value: YAMLValue) throws(RulesDiagnostic) -> Int {
        let text = try value.string()
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0...59).contains(minutes), (0...23).contains(hours) || (hours == 24 && minutes == 0) else {
            throw value.error("expected a local time as HH:MM (00:00 to 24:00)")
        }
        return hours * 60 + minutes
    }

    func date(_ value: YAMLValue) throws(RulesDiagnostic) -> LocalDate { try RulesParser.date(value) }
}
