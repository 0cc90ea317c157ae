import AyumiCore
import AyumiServices
import Foundation
import Hummingbird

/// The merchant registry over HTTP, for the city's staff (admin token): list, add or change a
/// merchant, suspend and reinstate one. Changes take effect at once, without a restart.
struct MerchantsController {
    let merchants: MerchantAdministration
    let auth: Authenticator

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get(use: list)                          // GET /v1/admin/merchants
        group.put(":id", use: save)                   // PUT /v1/admin/merchants/{id}
        group.post(":id/suspend", use: suspend)       // POST /v1/admin/merchants/{id}/suspend
        group.post(":id/reinstate", use: reinstate)   // POST /v1/admin/merchants/{id}/reinstate
    }

    struct MerchantJSON: Codable {
        struct Limits: Codable { var pointsPerDay: Int64?; var pointsPerResidentPerDay: Int64? }
        var id: String?
        var name: LocalizedText
        var category: String
        var zone: String
        var settlementAccount: String
        var active: Bool?
        var suspended: Bool?
        var limits: Limits?

        init(_ merchant: Merchant) {
            id = merchant.id
            name = merchant.name
            category = merchant.category
            zone = merchant.zoneID
            settlementAccount = merchant.settlementAccount
            active = merchant.active
            suspended = merchant.suspended
            limits = merchant.pointsPerDayMax == nil && merchant.pointsPerResidentPerDayMax == nil ? nil
                : Limits(pointsPerDay: merchant.pointsPerDayMax, pointsPerResidentPerDay: merchant.pointsPerResidentPerDayMax)
        }
    }

    @Sendable func list(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        struct Answer: Encodable { var merchants: [MerchantJSON] }
        return try HTTP.json(Answer(merchants: merchants.list().map(MerchantJSON.init)))
    }

    @Sendable func save(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        let id = context.parameters.get("id") ?? ""
        let body = try await HTTP.decode(MerchantJSON.self, from: request, bytesMax: 4_096)
        guard body.id == nil || body.id == id else { throw AyumiError.invalidRequest("id: the body names another merchant than the path") }
        let merchant = Merchant(id: id, name: body.name, category: body.category, zoneID: body.zone, settlementAccount: body.settlementAccount,
                                active: body.active ?? true, pointsPerDayMax: body.limits?.pointsPerDay,
                                pointsPerResidentPerDayMax: body.limits?.pointsPerResidentPerDay)
        try await merchants.save([merchant])
        return try HTTP.json(MerchantJSON(merchants.list().first { $0.id == id }!))
    }

    @Sendable func suspend(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        return try HTTP.json(MerchantJSON(try await merchants.setSuspended(merchantID: context.parameters.get("id") ?? "", true)))
    }

    @Sendable func reinstate(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        return try HTTP.json(MerchantJSON(try await merchants.setSuspended(merchantID: context.parameters.get("id") ?? "", false)))
    }
}
