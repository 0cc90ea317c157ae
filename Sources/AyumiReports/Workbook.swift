import AyumiCore
import Foundation
import ZIPFoundation

/// A spreadsheet written as an Office Open XML workbook (.xlsx, ECMA-376): one sheet per section,
/// numbers as numbers, text as inline strings, the header row frozen and bold. Nothing in it
/// depends on the clock: the same sheets give byte-identical files (a report must be reproducible).
public struct Workbook: Sendable {
    public enum Cell: Sendable, Hashable {
        case text(String)
        case number(Int64)
        /// `value` / 10^`decimals`, written exactly (12.5 from 125 and 1), never through a Double.
        case decimal(Int64, decimals: Int)
        case empty
    }

    public struct Sheet: Sendable {
        /// At most 31 characters, none of `[]:*?/\` (Excel's rules for sheet names).
        public var name: String
        public var header: [String]
        public var rows: [[Cell]]

        public init(name: String, header: [String], rows: [[Cell]]) {
            self.name = name
            self.header = header
            self.rows = rows
        }
    }

    public var sheets: [Sheet]

    public init(sheets: [Sheet]) { self.sheets = sheets }

    /// Every entry's date: a fixed instant, so the file depends on its content only.
    static let entryDate = Date(timeIntervalSince1970: 1_577_836_800)   // 2020-01-01T00:00:00Z

    public func xlsx() throws -> Data {
        let archive = try Archive(accessMode: .create)
        func add(_ path: String, _ text: String) throws {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), modificationDate: Self.entryDate,
                                 compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        try add("[Content_Types].xml", contentTypes)
        try add("_rels/.rels", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
            </Relationships>
            """)
        try add("xl/workbook.xml", workbook)
        try add("xl/_rels/workbook.xml.rels", workbookRelationships)
        try add("xl/styles.xml", Self.styles)
        for (index, sheet) in sheets.enumerated() { try add("xl/worksheets/sheet\(index + 1).xml", Self.worksheet(sheet)) }
        guard let data = archive.data else { throw CocoaError(.fileWriteUnknown) }
        return data
    }

    var contentTypes: String {
        """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
        <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
        <Default Extension="xml" ContentType="application/xml"/>\
        <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
        <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
        \(sheets.indices.map { "<Override PartName=\"/xl/worksheets/sheet\($0 + 1).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>" }.joined())\
        </Types>
        """
    }

    var workbook: String {
        """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
        <sheets>\(sheets.enumerated().map { "<sheet name=\"\(Markup.escape(Self.sheetName($1.name)))\" sheetId=\"\($0 + 1)\" r:id=\"rId\($0 + 1)\"/>" }.joined())</sheets>\
        </workbook>
        """
    }

    var workbookRelationships: String {
        """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        \(sheets.indices.map { "<Relationship Id=\"rId\($0 + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\($0 + 1).xml\"/>" }.joined())\
        <Relationship Id="rId\(sheets.count + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
        </Relationships>
        """
    }

    /// Style 1: bold, for the header row.
    static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
        </styleSheet>
        """

    static func worksheet(_ sheet: Sheet) -> String {
        var rows = "<row r=\"1\">" + sheet.header.enumerated().map { column, text in
            "<c r=\"\(reference(column, 1))\" t=\"inlineStr\" s=\"1\"><is><t xml:space=\"preserve\">\(Markup.escape(text))</t></is></c>"
        }.joined() + "</row>"
        for (index, row) in sheet.rows.enumerated() {
            rows += "<row r=\"\(index + 2)\">"
            for (column, cell) in row.enumerated() {
                let at = reference(column, index + 2)
                switch cell {
                case .text(let text): rows += "<c r=\"\(at)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\(Markup.escape(text))</t></is></c>"
                case .number(let value): rows += "<c r=\"\(at)\"><v>\(value)</v></c>"
                case .decimal(let value, let decimals): rows += "<c r=\"\(at)\"><v>\(Self.decimal(value, decimals))</v></c>"
                case .empty: break
                }
            }
            rows += "</row>"
        }
        return """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
            <sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>\
            <sheetData>\(rows)</sheetData>\
            </worksheet>
            """
    }

    /// 125 with 1 decimal → "12.5"; -5 with 2 → "-0.05".
    public static func decimal(_ value: Int64, _ decimals: Int) -> String { ExactDecimal(units: value, decimals: decimals).description }

    /// `A1`-style reference of a zero-based column and a one-based row.
    static func reference(_ column: Int, _ row: Int) -> String {
        var name = "", number = column + 1
        while number > 0 {
            let remainder = (number - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + remainder))) + name
            number = (number - 1) / 26
        }
        return name + String(row)
    }

    static func sheetName(_ name: String) -> String {
        String(name.filter { !"[]:*?/\\".contains($0) }.prefix(31))
    }
}
