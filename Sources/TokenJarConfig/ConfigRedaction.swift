/// Sections that hold secrets describe themselves with "(secret)" in their place, so a
/// configuration printed into a log line or an error message never carries one.
protocol RedactedDescription: CustomStringConvertible, CustomDebugStringConvertible {
    /// The stored properties whose values are never shown.
    static var secretFields: Set<String> { get }
}

extension RedactedDescription {
    public var description: String {
        let fields = Mirror(reflecting: self).children.map { child -> String in
            let name = child.label ?? "_"
            return Self.secretFields.contains(name) ? "\(name): (secret)" : "\(name): \(child.value)"
        }
        return "\(Self.self)(\(fields.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }
}

extension StoreConfig: RedactedDescription {
    static var secretFields: Set<String> { ["encryptionKeys"] }
}

extension WeChatConfig: RedactedDescription {
    static var secretFields: Set<String> { ["secret"] }
}

extension AdminConfig: RedactedDescription {
    static var secretFields: Set<String> { ["token"] }
}
