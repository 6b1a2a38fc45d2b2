#pragma once
#include "config/config.h"
#include <QJsonObject>
#include <QString>

// The audit trail (docs/audit.md): every control-plane change, with its time, its origin and the
// old and new values, in the table audit_log (migration 16). Written by the Store front when a key,
// provider, model, route or setting is saved or removed, a guardrail pause is lifted, or a key's
// data is deleted; never the request path. Secrets are never recorded: a key's secret hash and hint
// are left out, and a setting's members that hold credentials (headers, secret, token, password,
// api_key, authorization) are recorded as "(redacted)".
namespace gh {

struct StoredKey;

// Where a change came from.
enum class AuditOrigin { Window, Config, Cli, Api };
[[nodiscard]] QString auditOriginName(AuditOrigin origin); // "window", "config", "cli", "api"

// The origin of the changes this thread makes while it lives (nested scopes restore the outer one).
// Without one, a change is the window's: the window is the only caller that does not set one.
class AuditOriginScope
{
public:
    explicit AuditOriginScope(AuditOrigin origin);
    ~AuditOriginScope();
    AuditOriginScope(const AuditOriginScope &) = delete;
    AuditOriginScope &operator=(const AuditOriginScope &) = delete;
    [[nodiscard]] static AuditOrigin current();

private:
    AuditOrigin m_previous;
};

struct AuditEntry {
    qint64 id = 0;
    qint64 atMs = 0;
    QString origin; // auditOriginName()
    QString action; // "key.create", "key.pause", "key.limits", "provider.update", "setting.gateway", ...
    QString subject; // the key's name, the provider's / model's / route's id, the setting's name
    QString oldValue; // compact JSON of the members that changed ("" when created)
    QString newValue; // the same after ("" when removed)
    friend bool operator==(const AuditEntry &, const AuditEntry &) = default;
};

// The recorded form of each object: every member but secrets.
[[nodiscard]] QJsonObject auditJson(const StoredKey &key);
[[nodiscard]] QJsonObject auditJson(const ProviderConfig &provider);
[[nodiscard]] QJsonObject auditJson(const ModelConfig &model);
[[nodiscard]] QJsonObject auditJson(const RouteConfig &route);
// A setting's JSON value with credential members redacted; a value that is not JSON as text.
[[nodiscard]] QJsonObject auditSettingJson(const QString &value);
// The members of `before` and `after` that differ, each side with only those; false when none.
bool auditDiff(const QJsonObject &before, const QJsonObject &after, QJsonObject *oldOut, QJsonObject *newOut);
// Steps of one limit drag closer than this are one change in the trail (mergeAuditStep).
inline constexpr qint64 kAuditMergeMs = 5'000;
// A limit slider saves the key at every step of a drag: when `next` is a "key.limits" step of the
// same key from the same origin within kAuditMergeMs of `last`, *merged is `last` spanning both
// (from the first old value to the last new one) and true; else false. Both back-ends use it.
bool mergeAuditStep(const AuditEntry &last, const AuditEntry &next, AuditEntry *merged);
// A key's change named by what changed most: revoke, pause/resume, limits, else update.
[[nodiscard]] QString keyAuditAction(const QJsonObject &changedOld, const QJsonObject &changedNew);

} // namespace gh
