import AyumiCore
import Foundation

/// The benefit report as tables (for CSV, the workbook and the page) and as JSON.
extension BenefitReport {
    struct Table {
        var id: String
        var title: LocalizedText
        var header: [LocalizedText]
        var rows: [[Workbook.Cell]]

        /// Excel allows 31 characters: the Japanese title and the English id.
        var sheetName: String { "\(title.ja) \(id)" }
    }

    static let allText = LocalizedText(ja: "計", en: "all")
    /// A cell with nothing to show (no walker that day; no proposal without a benefit or a cost).
    static let notComputed = "-"

    func tables(_ language: Language) -> [Table] {
        func value(_ number: Int64?) -> Workbook.Cell { number.map(Workbook.Cell.number) ?? .text(BeneficiaryReport.suppressedCell) }
        func text(_ localized: LocalizedText) -> Workbook.Cell { .text(localized.text(language)) }
        func column(_ ja: String, _ en: String) -> LocalizedText { LocalizedText(ja: ja, en: en) }
        let partyColumns = [column("主体", "party"), column("主体名", "party_name")]
        func party(_ party: Party?) -> [Workbook.Cell] { party.map { [.text($0.rawValue), text($0.name)] } ?? [.empty, .empty] }

        let residentRows = residents.map { cell -> [Workbook.Cell] in
            [.text(cell.ageBand ?? Self.allText.text(language)), .text(cell.district ?? Self.allText.text(language))]
                + [cell.counts?.participants, cell.counts?.active, cell.counts?.pointsEarned, cell.counts?.pointsRedeemed,
                   cell.counts.map { $0.pointsRedeemed * yenPerPoint }].map(value)
        }
        let figureRows = parties.flatMap { section in
            section.figures.map { figure in
                party(section.party) + [.text(figure.id), text(figure.name),
                                        figure.suppressed ? value(nil) : (figure.value.map(Workbook.Cell.number) ?? .text(Self.notComputed)),
                                        text(figure.unit.name), text(figure.basis)]
            }
        }
        let sponsorRows = sponsors.map { sponsor in
            [.text(sponsor.id), text(sponsor.name)] + party(sponsor.party) + [value(sponsor.redeemedPoints), value(sponsor.yen), value(sponsor.expiredPoints)]
        }
        let layerRows = layers.map { layer in
            [.text(layer.id), text(layer.name), .number(layer.yenPerMonth), .number(layer.yen)] + Party.payers.map { .number(layer.paidBy[$0] ?? 0) }
        }
        /// A figure not computed, for want of a benefit or a cost, not hidden.
        func proposal(_ number: Int64?, _ share: Share, decimals: Int = 0) -> Workbook.Cell {
            guard let number else { return .text(share.proposalSuppressed ? BeneficiaryReport.suppressedCell : Self.notComputed) }
            return decimals == 0 ? .number(number) : .decimal(number, decimals: decimals)
        }
        var shareRows = sharing.map { share in
            party(share.party) + [value(share.benefitYen), proposal(share.permille, share, decimals: 1), proposal(share.proposedYen, share),
                                  value(share.paidYen), share.paidYen == nil ? value(nil) : proposal(share.differenceYen, share)]
        }
        let paidTotal: Int64? = sharing.contains { $0.paidYen == nil } ? nil : sharing.reduce(0) { $0 + $1.paidYen! }
        shareRows.append([.text("total"), text(LocalizedText(ja: "事業費の合計", en: "Program cost")), .empty, .empty, value(totalCost), value(paidTotal), .empty])
        let trendRows = trend.map { point -> [Workbook.Cell] in
            [.text(point.from.description), .text(point.to.description),
             point.averageSteps.map(Workbook.Cell.number) ?? .text(point.suppressed ? BeneficiaryReport.suppressedCell : Self.notComputed)]
        }
            + [[.text("baseline"), text(LocalizedText(ja: "基準期間", en: "baseline")),
                baselineSteps.map(Workbook.Cell.number) ?? .text(baselineSuppressed ? BeneficiaryReport.suppressedCell : Self.notComputed)]]
        let assumptionRows = assumptions.map { item -> [Workbook.Cell] in
            [.text(item.id), text(item.name), text(item.value), item.source.map(text) ?? .empty]
        }
        return [
            Table(id: "residents", title: column("住民（年齢区分×地区）", "Residents by age band and district"),
                  header: [column("年齢区分", "age_band"), column("地区", "district"), column("参加者数", "participants"),
                           column("活動した参加者数", "active"), column("獲得ポイント", "points_earned"), column("利用ポイント", "points_redeemed"),
                           column("受け取った価値（円）", "yen_received")], rows: residentRows),
            Table(id: "benefits", title: column("主体別の便益", "Benefits by party"),
                  header: partyColumns + [column("項目", "figure"), column("名称", "name"), column("値", "value"), column("単位", "unit"),
                                          column("算出方法", "basis")], rows: figureRows),
            Table(id: "sponsor-costs", title: column("負担者別の費用", "Costs by sponsor"),
                  header: [column("負担者ID", "sponsor"), column("名称", "name")] + partyColumns
                      + [column("利用ポイント", "points_redeemed"), column("負担額（円）", "yen"), column("失効ポイント", "points_expired")],
                  rows: sponsorRows),
            Table(id: "operating-costs", title: column("運営費", "Operating cost"),
                  header: [column("層", "layer"), column("名称", "name"), column("月額（円）", "yen_per_month"), column("期間の額（円）", "yen")]
                      + Party.payers.map { LocalizedText(ja: "\($0.name.ja)負担（円）", en: "\($0.rawValue)_yen") },
                  rows: layerRows),
            Table(id: "cost-sharing", title: column("費用分担の提案", "Cost sharing proposal"),
                  header: partyColumns + [column("便益（円）", "benefit_yen"), column("便益の割合（%）", "benefit_share_percent"),
                                          column("提案負担額（円）", "proposed_yen"), column("実負担額（円）", "paid_yen"),
                                          column("差額（円）", "difference_yen")], rows: shareRows),
            Table(id: "steps-trend", title: column("歩数の推移", "Steps trend"),
                  header: [column("開始日", "from"), column("終了日", "to"), column("1日平均歩数", "average_steps")], rows: trendRows),
            Table(id: "assumptions", title: column("前提と出典", "Assumptions and sources"),
                  header: [column("ID", "id"), column("項目", "name"), column("値", "value"), column("出典", "source")], rows: assumptionRows),
        ]
    }

    struct Output: Encodable {
        struct Figure: Encodable {
            var id: String, name: LocalizedText, value: Int64?, unit: String, basis: LocalizedText, suppressed: Bool
        }
        struct PartyOutput: Encodable { var party: String, name: LocalizedText, figures: [Figure] }
        struct Cell: Encodable {
            var ageBand: String?, district: String?, participants: Int64?, active: Int64?, pointsEarned: Int64?, pointsRedeemed: Int64?
            var yenReceived: Int64?
            var suppressed: Bool
        }
        struct Sponsor: Encodable {
            var id: String, name: LocalizedText, party: String?, redeemedPoints: Int64?, yen: Int64?, expiredPoints: Int64?
            var suppressed: Bool
        }
        struct Layer: Encodable { var id: String, name: LocalizedText, yenPerMonth: Int64, yen: Int64, paidBy: [String: Int64] }
        struct Share: Encodable {
            var party: String, benefitYen: Int64?, benefitShare: String?, proposedYen: Int64?, paidYen: Int64?, differenceYen: Int64?
            var proposalSuppressed: Bool
        }
        struct Point: Encodable {
            var from: String, to: String, averageSteps: Int64?
            var suppressed: Bool
        }
        struct Assumption: Encodable { var id: String, name: LocalizedText, value: LocalizedText, source: LocalizedText? }
        var ageBands: [String], districts: [String], residents: [Cell], parties: [PartyOutput], sponsorCosts: [Sponsor]
        var operatingCosts: [Layer], totalCost: Int64?, costSharing: [Share], stepsTrend: [Point], baselineSteps: Int64?, baselineSuppressed: Bool
        var assumptions: [Assumption]
    }

    var output: Output {
        Output(ageBands: ageBands, districts: districts,
               residents: residents.map {
                   .init(ageBand: $0.ageBand, district: $0.district, participants: $0.counts?.participants, active: $0.counts?.active,
                         pointsEarned: $0.counts?.pointsEarned, pointsRedeemed: $0.counts?.pointsRedeemed,
                         yenReceived: $0.counts.map { $0.pointsRedeemed * yenPerPoint }, suppressed: $0.counts == nil)
               },
               parties: parties.map { section in
                   .init(party: section.party.rawValue, name: section.party.name, figures: section.figures.map {
                       .init(id: $0.id, name: $0.name, value: $0.value, unit: $0.unit.rawValue, basis: $0.basis, suppressed: $0.suppressed)
                   })
               },
               sponsorCosts: sponsors.map {
                   .init(id: $0.id, name: $0.name, party: $0.party?.rawValue, redeemedPoints: $0.redeemedPoints, yen: $0.yen, expiredPoints: $0.expiredPoints,
                         suppressed: $0.redeemedPoints == nil || $0.expiredPoints == nil)
               },
               operatingCosts: layers.map {
                   .init(id: $0.id, name: $0.name, yenPerMonth: $0.yenPerMonth, yen: $0.yen,
                         paidBy: Dictionary(uniqueKeysWithValues: $0.paidBy.map { ($0.key.rawValue, $0.value) }))
               },
               totalCost: totalCost,
               costSharing: sharing.map {
                   .init(party: $0.party.rawValue, benefitYen: $0.benefitYen, benefitShare: $0.permille.map { Workbook.decimal($0, 1) },
                         proposedYen: $0.proposedYen, paidYen: $0.paidYen, differenceYen: $0.differenceYen, proposalSuppressed: $0.proposalSuppressed)
               },
               stepsTrend: trend.map { .init(from: $0.from.description, to: $0.to.description, averageSteps: $0.averageSteps, suppressed: $0.suppressed) },
               baselineSteps: baselineSteps, baselineSuppressed: baselineSuppressed,
               assumptions: assumptions.map { .init(id: $0.id, name: $0.name, value: $0.value, source: $0.source) })
    }
}
