import Yams

/// A value before it is typed: a scalar, a list or a mapping, from the YAML file (with its line)
/// or from an environment variable or the command line (a scalar, no line).
struct RawValue: Sendable {
    enum Shape: Sendable {
        case null
        case scalar(String)
        case list([RawValue])
        case mapping
    }

    var shape: Shape
    var line: Int?

    init(shape: Shape, line: Int?) {
        self.shape = shape
        self.line = line
    }

    /// A value given as text (environment variable, command line).
    init(text: String) {
        self.init(shape: .scalar(text), line: nil)
    }

    init(node: Node) {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            self.init(shape: RawValue.isNull(scalar) ? .null : .scalar(scalar.string), line: line)
        case .sequence(let sequence):
            self.init(shape: .list(sequence.map(RawValue.init(node:))), line: line)
        case .mapping:
            self.init(shape: .mapping, line: line)
        case .alias:
            // The composer resolves aliases to the anchored node; an unresolved one is not a value.
            self.init(shape: .mapping, line: line)
        }
    }

    var isNull: Bool {
        if case .null = shape { return true }
        return false
    }

    /// "a list", "a mapping", for messages about the wrong shape.
    var shapeNoun: String {
        switch shape {
        case .null: "nothing"
        case .scalar: "a single value"
        case .list: "a list"
        case .mapping: "a mapping"
        }
    }

    /// A plain (unquoted) `~`, `null` or nothing at all.
    static func isNull(_ scalar: Node.Scalar) -> Bool {
        guard scalar.style == .plain || scalar.style == .any else { return false }
        guard scalar.tag.rawValue == Tag.Name.implicit.rawValue || scalar.tag.rawValue == Tag.Name.null.rawValue else {
            return false
        }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}

/// The problems of one value; `suffix` extends the key path (`[2]` for a list element).
struct ValueProblem: Sendable {
    var kind: ConfigProblem.Kind
    var suffix: String = ""
    var line: Int?
    var message: String
}

struct ValueProblems: Error, Sendable {
    var items: [ValueProblem]

    init(_ items: [ValueProblem]) {
        self.items = items
    }

    init(_ kind: ConfigProblem.Kind, line: Int?, message: String) {
        self.items = [ValueProblem(kind: kind, line: line, message: message)]
    }
}

/// How a value may appear in a message: quoted, with any URL password masked, or not at all when
/// the key is secret.
struct ValueDisplay: Sendable {
    var isSecret: Bool

    /// `", got 'sometimes'"`, or nothing for a secret.
    func got(_ text: String) -> String {
        isSecret ? " (the value is secret and not shown)" : ", got '\(ValueDisplay.maskingCredentials(text))'"
    }

    /// `scheme://user:password@host` becomes `scheme://user:***@host`.
    static func maskingCredentials(_ text: String) -> String {
        guard let separator = text.range(of: "://") else { return text }
        let rest = text[separator.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else {
            return text
        }
        return String(text[..<authority.index(after: colon)]) + "***" + String(text[at...])
    }
}
