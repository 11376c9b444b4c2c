/// Checks between keys, and re-checks of values set in code.
extension GatewayConfig {
    /// Checks every value (also those set in code rather than loaded) and the rules between keys.
    public func validate() throws(ConfigErrors) {
        let problems = valueProblems() + crossFieldProblems()
        guard problems.isEmpty else { throw ConfigErrors(problems) }
    }

    /// ``validate()``, and the gateway has something to serve: at least one route.
    public func validateForServing() throws(ConfigErrors) {
        var problems: [ConfigProblem] = []
        do { try validate() } catch { problems = error.problems }
        problems += servingProblems()
        guard problems.isEmpty else { throw ConfigErrors(problems) }
    }

    /// What stops the gateway from serving although every key is valid.
    public func servingProblems() -> [ConfigProblem] {
        guard routes.isEmpty else { return [] }
        return [
            ConfigProblem(
                .missing, keyPath: ConfigRegistry.routesName,
                message: "at least one route with an upstream is needed to serve; add a routes: list "
                    + "or set \(ConfigRegistry.routesUpstreamsVariable)"
            )
        ]
    }

    /// Each value parsed again from its own rendering, so that a value set in code is held to the
    /// same rules as one read from a file.
    func valueProblems() -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        for section in ConfigRegistry.sections {
            for key in section.keys {
                problems += key.recheck(self).map {
                    ConfigProblem($0.kind, keyPath: section.keyPath(of: key) + $0.suffix, message: $0.message)
                }
            }
        }
        for (index, route) in routes.enumerated() {
            for key in ConfigRegistry.routeKeys {
                problems += key.recheck(route).map {
                    ConfigProblem($0.kind, keyPath: "routes[\(index)].\(key.name)\($0.suffix)", message: $0.message)
                }
            }
        }
        return problems
    }

    /// Rules that involve more than one key.
    func crossFieldProblems() -> [ConfigProblem] {
        var problems = routeProblems()
        problems += wechat.problems(tokenHeader: server.tokenHeader, routes: routes)
        problems += admin.problems(server: server)
        if sessions.touchInterval >= sessions.idleTimeout {
            problems.append(ConfigProblem(
                .conflict, keyPath: "sessions.touch_interval",
                message: "must be shorter than sessions.idle_timeout (\(ConfigFormats.formatDuration(sessions.idleTimeout))), "
                    + "or active sessions could expire"))
        }
        problems += tlsProblems()
        if cookies.maxPerDomain > cookies.maxPerJar {
            problems.append(ConfigProblem(
                .conflict, keyPath: "cookies.max_per_domain",
                message: "cannot be larger than cookies.max_per_jar (\(cookies.maxPerJar))"))
        }
        return problems
    }

    /// A certificate needs its key and a key its certificate.
    private func tlsProblems() -> [ConfigProblem] {
        let pairs = [
            ("server.tls_cert", server.tlsCert, "server.tls_key", server.tlsKey),
            ("upstream_tls.client_cert", upstreamTLS.clientCert, "upstream_tls.client_key", upstreamTLS.clientKey),
        ]
        var problems: [ConfigProblem] = []
        for (certPath, cert, keyPath, key) in pairs {
            if !cert.isEmpty, key.isEmpty {
                problems.append(ConfigProblem(.missing, keyPath: keyPath, message: "\(certPath) is set, so \(keyPath) is needed"))
            } else if cert.isEmpty, !key.isEmpty {
                problems.append(ConfigProblem(.missing, keyPath: certPath, message: "\(keyPath) is set, so \(certPath) is needed"))
            }
        }
        return problems
    }

    private func routeProblems() -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        var firstIndexByName: [String: Int] = [:]
        let reserved = server.reservedPrefix
        for (index, route) in routes.enumerated() {
            let path = "routes[\(index)]"
            if let first = firstIndexByName[route.name] {
                problems.append(ConfigProblem(
                    .conflict, keyPath: "\(path).name",
                    message: "duplicate route name '\(route.name)' (also routes[\(first)].name)"))
            } else {
                firstIndexByName[route.name] = index
            }
            if route.upstreams.isEmpty {
                problems.append(ConfigProblem(
                    .missing, keyPath: "\(path).upstreams", message: "a route needs at least one upstream"))
            }
            for (position, upstream) in route.upstreams.enumerated() {
                if let earlier = route.upstreams[..<position].firstIndex(of: upstream) {
                    problems.append(ConfigProblem(
                        .conflict, keyPath: "\(path).upstreams[\(position)]",
                        message: "duplicate upstream '\(upstream)' (also \(path).upstreams[\(earlier)])"))
                }
            }
            if route.pathPrefix == reserved || route.pathPrefix.hasPrefix(reserved + "/") {
                problems.append(ConfigProblem(
                    .conflict, keyPath: "\(path).path_prefix",
                    message: "'\(route.pathPrefix)' lies under server.reserved_prefix '\(reserved)'; "
                        + "no request would reach this route"))
            }
            if let shadow = routes[..<index].firstIndex(where: { $0.shadows(route) }) {
                problems.append(ConfigProblem(
                    .conflict, keyPath: path,
                    message: "never reached: routes[\(shadow)] ('\(routes[shadow].name)') comes first "
                        + "and takes every request this route would"))
            }
        }
        return problems
    }
}

extension RouteConfig {
    /// Whether this route, placed earlier, takes every request `later` would match.
    func shadows(_ later: RouteConfig) -> Bool {
        guard pathPrefix == "/" || pathPrefix == later.pathPrefix else { return false }
        guard let host else { return true }
        guard let laterHost = later.host else { return false }
        if host == laterHost { return true }
        guard host.isWildcard else { return false }
        if laterHost.isWildcard { return laterHost.pattern.hasSuffix(String(host.pattern.dropFirst(1))) }
        return host.matches(hostHeader: laterHost.pattern)
    }
}
