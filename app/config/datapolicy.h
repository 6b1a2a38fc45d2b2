#pragma once
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>
#include <optional>

namespace gh {

// Whether a provider trains its models on what it is sent: yes, no, or yes unless the account
// opted out ("opt-out").
enum class Training { Yes, No, OptOut };
[[nodiscard]] QString trainingName(Training t); // "yes", "no", "opt-out"
[[nodiscard]] std::optional<Training> trainingFromName(const QString &name);

// What a provider (or one model of it) does with the prompts it is sent ("data_policy" in the
// config, docs/config.md). Each field is optional: std::nullopt means "not stated at this level",
// and a policy layered over another (over()) takes the stated fields first. A field still unstated
// after every layer is unknown, and an unknown never meets a requirement (requireShortfall()).
struct DataPolicy {
    std::optional<int> retainsDays;  // "retains_prompts": days kept (abuse logs included); 0: "none"
    std::optional<Training> trains;  // "trains_on_data"
    std::optional<bool> zdr;         // "zdr": zero data retention is in force for this account
    std::optional<QString> region;   // "region": where prompts are processed, lower case ("eu", "us", "local")
    [[nodiscard]] bool isEmpty() const { return !retainsDays && !trains && !zdr && !region; }
    // This policy's stated fields, the others from `base`.
    [[nodiscard]] DataPolicy over(const DataPolicy &base) const;
    // The stated fields only, in the config's names.
    [[nodiscard]] QJsonObject toJson() const;
    friend bool operator==(const DataPolicy &, const DataPolicy &) = default;
};

// A key's "require_policy": where its traffic may go. An empty requirement allows every target.
struct PolicyRequirement {
    bool zdr = false;                     // "zdr": true
    bool noTraining = false;              // "trains_on_data": "no"
    std::optional<int> maxRetentionDays;  // "max_retention_days": 0 = nothing retained
    QStringList regions;                  // "regions": ["eu"]; empty = any region
    [[nodiscard]] bool any() const { return zdr || noTraining || maxRetentionDays || !regions.isEmpty(); }
    [[nodiscard]] QJsonObject toJson() const;
    // "zdr, no training, retention <= 0 days, region eu": the rules, for messages and the window.
    [[nodiscard]] QString describe() const;
    friend bool operator==(const PolicyRequirement &, const PolicyRequirement &) = default;
};

// Reading the JSON forms (the config's and the store's). On a wrong value: std::nullopt, *field the
// member at fault ("zdr") and *message what is wrong with it.
[[nodiscard]] std::optional<DataPolicy> dataPolicyFromJson(const QJsonValue &v, QString *field, QString *message);
[[nodiscard]] std::optional<PolicyRequirement> policyRequirementFromJson(const QJsonValue &v, QString *field, QString *message);

// Why `policy` (every layer applied) does not meet `required`: the first rule it breaks, e.g.
// "requires zdr; zdr is off", "requires region eu; region is unknown". Empty when it meets it.
[[nodiscard]] QString requireShortfall(const PolicyRequirement &required, const DataPolicy &policy);

// A provider's published terms, carried as data (resources/data-policies.json) with their source.
struct PublishedPolicy {
    QString vendor;     // the catalog vendor it describes ("openai", "anthropic", "google", ...)
    QString name;       // "OpenAI API"
    DataPolicy policy;  // what the terms say; unstated fields are unknown
    QString source;     // the URL of the terms the values were read from
    QString date;       // when they were read (YYYY-MM-DD)
    QString note;       // the caveats, in one sentence
};
// The published terms of a vendor, or nullptr when the data file has none for it. The file is read
// once (compiled into the binary).
[[nodiscard]] const PublishedPolicy *publishedPolicy(const QString &vendor);

} // namespace gh
