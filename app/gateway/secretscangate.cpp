#include "gateway/secretscangate.h"
#include "core/logging.h"
#include "routing/registry.h"
#include "secretscan/secretredact.h"
#include "secretscan/secretrules.h"
#include "store/requestrecord.h"
#include <QStringList>

namespace gh {

namespace {

// The log row keeps at most this many findings (a prompt pasted from a dump may hold thousands).
constexpr int kMaxLoggedFindings = 50;

QString findingsText(const QList<SecretFinding> &findings)
{
    QStringList parts;
    for (const SecretFinding &f : findings) {
        if (parts.size() == kMaxLoggedFindings) {
            parts.append(QStringLiteral("+%1 more").arg(findings.size() - kMaxLoggedFindings));
            break;
        }
        parts.append(QStringLiteral("%1@%2+%3").arg(f.ruleId).arg(f.offset).arg(f.length));
    }
    return parts.join(u',');
}

} // namespace

std::optional<GatewayError> secretScanAdmit(const KeyEntry &key, QByteArray *body, RequestRecord *record)
{
    if (key.secretScan == SecretScanMode::Off || body->isEmpty())
        return std::nullopt;
    const auto rules = SecretRules::builtin();
    const QList<SecretFinding> findings = rules->scan(*body);
    if (findings.isEmpty())
        return std::nullopt;
    record->secretFindings = findingsText(findings);
    QStringList ruleIds;
    for (const SecretFinding &f : findings)
        if (!ruleIds.contains(f.ruleId))
            ruleIds.append(f.ruleId);
    qCInfo(lcGateway).noquote() << "request" << record->id << "of key" << key.name << "holds" << findings.size()
                                << "secret(s):" << ruleIds.join(QStringLiteral(", ")) << "(secret_scan:" << secretScanName(key.secretScan) + ')';
    const SecretFinding &first = findings.first();
    auto refusal = [&](const QString &ruleId, const QString &why) {
        GatewayError e = GatewayError::badRequest(
            QStringLiteral("Gatehouse refused this request: its prompt holds what looks like a secret (rule %1: %2, at byte %3 of the "
                           "request body%4). %5 Remove the secret from the conversation and send it again.")
                .arg(ruleId, rules->description(ruleId).isEmpty() ? QStringLiteral("no description") : rules->description(ruleId))
                .arg(first.offset)
                .arg(findings.size() > 1 ? QStringLiteral("; %1 findings in all: %2").arg(findings.size()).arg(ruleIds.join(QStringLiteral(", ")))
                                         : QString())
                .arg(why),
            "secret_detected");
        e.extraHeaders.emplaceBack("x-gatehouse-secret-rule", ruleId.toLatin1());
        e.extraHeaders.emplaceBack("x-should-retry", "false");
        return e;
    };
    switch (key.secretScan) {
    case SecretScanMode::Block:
        return refusal(first.ruleId, QStringLiteral("Key '%1' blocks prompts with secrets (secret_scan: \"block\").").arg(key.name));
    case SecretScanMode::Redact: {
        QString failedRule;
        if (!redactSecrets(body, findings, &failedRule))
            return refusal(failedRule, QStringLiteral("Key '%1' redacts secrets (secret_scan: \"redact\"), but this one spans a JSON "
                                                      "string boundary and cannot be replaced without breaking the request.").arg(key.name));
        return std::nullopt;
    }
    case SecretScanMode::Off:
    case SecretScanMode::Warn:
        break;
    }
    return std::nullopt;
}

} // namespace gh
