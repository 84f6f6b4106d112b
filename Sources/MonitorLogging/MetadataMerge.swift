import Logging

/// The metadata of one log record, merged the same way by every handler here.
///
/// Order, later wins on equal keys:
/// 1. the handler's own metadata (`logger[metadataKey:]`),
/// 2. the handler's `metadataProvider` (task-local or per-process context),
/// 3. the metadata passed with the log call,
/// 4. for a call with `error:`, `error.message` and `error.type` (the keys
///    swift-log's own handlers use).
public enum MetadataMerge {
    public static func merged(
        handler: Logger.Metadata,
        provider: Logger.MetadataProvider?,
        call: Logger.Metadata?,
        error: (any Error)?
    ) -> Logger.Metadata {
        var metadata = handler
        if let provided = provider?.get(), !provided.isEmpty {
            metadata.merge(provided, uniquingKeysWith: { _, new in new })
        }
        if let call, !call.isEmpty {
            metadata.merge(call, uniquingKeysWith: { _, new in new })
        }
        if let error {
            metadata["error.message"] = .string("\(error)")
            metadata["error.type"] = .string(String(reflecting: type(of: error)))
        }
        return metadata
    }

    /// Values as text: strings as they are, everything else by its description.
    public static func flattened(_ metadata: Logger.Metadata) -> [String: String] {
        metadata.mapValues { value in
            if case .string(let text) = value { return text }
            return value.description
        }
    }

    /// ``merged(handler:provider:call:error:)`` of `event`, flattened.
    public static func flattened(handler: Logger.Metadata, provider: Logger.MetadataProvider?, event: LogEvent) -> [String: String] {
        flattened(merged(handler: handler, provider: provider, call: event.metadata, error: event.error))
    }
}
