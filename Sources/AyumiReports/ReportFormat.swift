import AyumiCore
import Foundation

/// The forms a report is read in: the CLI's `--format` and the API's `format=` name the same ones.
public enum ReportFormat: String, Sendable, CaseIterable {
    case json, csv, xlsx, html

    public var contentType: String {
        switch self {
        case .json: "application/json; charset=utf-8"
        case .csv: "text/csv; charset=utf-8"
        case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        case .html: "text/html; charset=utf-8"
        }
    }
}

/// Asked for a format a report does not have (see `RenderedReport.formats`).
public struct UnsupportedFormat: Error, Sendable {
    public var format: ReportFormat
}

/// A report that the CLI writes and the API answers in any of its `formats`, worded in a language.
public protocol RenderedReport: Sendable {
    static var formats: [ReportFormat] { get }
    /// The bytes of the report in `format`, one of `formats`.
    func rendered(_ format: ReportFormat, language: Language) throws -> Data
}

extension BeneficiaryReport: RenderedReport {
    public static let formats = ReportFormat.allCases

    public func rendered(_ format: ReportFormat, language: Language) throws -> Data {
        switch format {
        case .json: json()
        case .csv: Data(csv(language: language).utf8)
        case .xlsx: try xlsx(language: language)
        case .html: Data(html(language: language).utf8)
        }
    }
}

extension KPIReport: RenderedReport {
    public static let formats = ReportFormat.allCases

    public func rendered(_ format: ReportFormat, language: Language) throws -> Data {
        switch format {
        case .json: json()
        case .csv: Data(csv(language).utf8)
        case .xlsx: try xlsx(language)
        case .html: Data(html(language).utf8)
        }
    }
}

extension Settlement: RenderedReport {
    public static let formats: [ReportFormat] = [.json, .csv, .html]

    public func rendered(_ format: ReportFormat, language: Language) throws -> Data {
        switch format {
        case .json: json()
        case .csv: Data(csv(language).utf8)
        case .html: Data(html(language).utf8)
        case .xlsx: throw UnsupportedFormat(format: format)
        }
    }
}
