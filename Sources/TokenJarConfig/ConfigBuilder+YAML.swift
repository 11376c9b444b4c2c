import Yams

/// Walking the YAML document: sections, keys, the routes list; unknown keys are reported with a
/// suggestion, values with their line.
extension ConfigBuilder {
    struct Entry {
        var key: String
        var keyLine: Int?
        var value: Node
    }

    mutating func decode(yaml: String) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            problems.append(Self.syntaxProblem(error))
            return
        }
        guard let root else { return }  // an empty file: all defaults
        decode(root: root)
    }

    mutating func decode(root: Node) {
        guard case .mapping(let mapping) = root else {
            let raw = RawValue(node: root)
            if raw.isNull { return }
            report(.wrongType, keyPath: "", line: raw.line,
                   message: "the file must be a mapping of sections (server:, store:, routes:, ...), got \(raw.shapeNoun)")
            return
        }
        for entry in entries(of: mapping, path: "") {
            if entry.key == ConfigRegistry.routesName {
                decodeRoutes(entry.value)
            } else if let section = ConfigRegistry.section(named: entry.key) {
                decodeSection(section, entry.value)
            } else {
                var hint = Suggestions.hint(for: entry.key, among: ConfigRegistry.topLevelNames)
                if hint.isEmpty, let home = ConfigRegistry.sections.first(where: { $0.key(named: entry.key) != nil }) {
                    hint = " (did you mean '\(home.name).\(entry.key)'? keys belong under their section)"
                }
                report(.unknownKey, keyPath: entry.key, line: entry.keyLine, message: "unknown key '\(entry.key)'\(hint)")
            }
        }
    }

    mutating func decodeSection(_ section: ConfigSection, _ node: Node) {
        let raw = RawValue(node: node)
        if raw.isNull { return }
        guard case .mapping(let mapping) = node else {
            report(.wrongType, keyPath: section.name, line: raw.line,
                   message: "expected a mapping of \(section.name) settings, got \(raw.shapeNoun)")
            return
        }
        origins[section.name] = .file(line: raw.line)
        let names = section.keys.map(\.name)
        for entry in entries(of: mapping, path: section.name) {
            let keyPath = "\(section.name).\(entry.key)"
            guard let key = section.key(named: entry.key) else {
                report(.unknownKey, keyPath: keyPath, line: entry.keyLine,
                       message: "unknown key '\(entry.key)'\(Suggestions.hint(for: entry.key, among: names))")
                continue
            }
            let value = RawValue(node: entry.value)
            set(key, raw: value, keyPath: keyPath, reportAs: keyPath, origin: .file(line: value.line))
        }
    }

    mutating func decodeRoutes(_ node: Node) {
        let raw = RawValue(node: node)
        if raw.isNull { return }
        guard case .sequence(let sequence) = node else {
            failedPaths.insert(ConfigRegistry.routesName)
            report(.wrongType, keyPath: ConfigRegistry.routesName, line: raw.line,
                   message: "expected a list of routes (each item starting with '- name:'), got \(raw.shapeNoun)")
            return
        }
        origins[ConfigRegistry.routesName] = .file(line: raw.line)
        let names = ConfigRegistry.routeKeys.map(\.name)
        var routes: [RouteConfig] = []
        for (index, item) in sequence.enumerated() {
            let path = "\(ConfigRegistry.routesName)[\(index)]"
            var route = RouteConfig(name: RouteConfig.defaultName(at: index))
            origins[path] = .file(line: item.mark?.line)
            defer { routes.append(route) }  // keep indices aligned with the file, even for a bad item
            guard case .mapping(let mapping) = item else {
                failedPaths.insert(path)
                report(.wrongType, keyPath: path, line: item.mark?.line,
                       message: "expected a mapping of route settings, got \(RawValue(node: item).shapeNoun)")
                continue
            }
            for entry in entries(of: mapping, path: path) {
                let keyPath = "\(path).\(entry.key)"
                guard let key = ConfigRegistry.routeKeys.first(where: { $0.name == entry.key }) else {
                    report(.unknownKey, keyPath: keyPath, line: entry.keyLine,
                           message: "unknown key '\(entry.key)'\(Suggestions.hint(for: entry.key, among: names))")
                    continue
                }
                let value = RawValue(node: entry.value)
                guard !value.isNull else { continue }
                do throws(ValueProblems) {
                    try key.apply(&route, value)
                    origins[keyPath] = .file(line: value.line)
                } catch {
                    recordFailure(error, keyPath: keyPath, reportAs: keyPath)
                }
            }
        }
        config.routes = routes
    }

    /// The entries of a mapping in order, with YAML merge keys (`<<: *defaults`) expanded: keys
    /// written in the mapping win over merged ones.
    mutating func entries(of mapping: Node.Mapping, path: String) -> [Entry] {
        var written: [Entry] = []
        var merged: [Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(.wrongType, keyPath: path, line: keyNode.mark?.line,
                       message: "keys must be plain names, got \(RawValue(node: keyNode).shapeNoun) as a key")
                continue
            }
            guard scalar.string == "<<", scalar.style == .plain || scalar.style == .any else {
                written.append(Entry(key: scalar.string, keyLine: keyNode.mark?.line, value: value))
                continue
            }
            let sources: [Node] = if case .sequence(let list) = value { Array(list) } else { [value] }
            for source in sources {
                guard case .mapping(let inner) = source else {
                    report(.wrongType, keyPath: path, line: source.mark?.line,
                           message: "'<<' merges a mapping or a list of mappings, got \(RawValue(node: source).shapeNoun)")
                    continue
                }
                for (innerKey, innerValue) in inner {
                    guard let name = innerKey.scalar?.string else { continue }
                    merged.append(Entry(key: name, keyLine: innerKey.mark?.line, value: innerValue))
                }
            }
        }
        var seen = Set(written.map(\.key))
        for entry in merged where seen.insert(entry.key).inserted {
            written.append(entry)
        }
        return written
    }

    /// One problem for a document that is not valid YAML. Only libyaml's short description is kept:
    /// the snippet of the offending line could hold a secret.
    static func syntaxProblem(_ error: any Error) -> ConfigProblem {
        guard let yamlError = error as? YamlError else {
            return ConfigProblem(.syntax, keyPath: "", message: "invalid YAML")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text), from line \($0.mark.line))" } ?? ""
            return ConfigProblem(.syntax, keyPath: "", line: mark.line, message: "invalid YAML: \(problem)\(while_)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            return ConfigProblem(.syntax, keyPath: "", line: context.mark.line, message: "duplicate key \(names)")
        case .reader(let problem, _, _, _):
            return ConfigProblem(.syntax, keyPath: "", message: "unreadable text: \(problem)")
        case .dataCouldNotBeDecoded:
            return ConfigProblem(.syntax, keyPath: "", message: "the file is not UTF-8 text")
        default:
            return ConfigProblem(.syntax, keyPath: "", message: "invalid YAML")
        }
    }
}
