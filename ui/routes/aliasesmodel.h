#pragma once
#include "backend.h"
#include "config/config.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QtQml/qqmlregistration.h>
#include <QVariantMap>

namespace gh::ui {

// The model aliases (issue 12: a requested model name matching the glob `match` is served as `to`,
// a route or a model), in their order: the first match wins, so the order is part of the data.
// Add, edit, move and delete write the whole list to the store (the same setting a config file's
// "aliases" replaces) and apply it to the running gateway at once.
class AliasesModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    // What a target may be: the route ids, then the model ids the registry knows, each sorted.
    Q_PROPERTY(QStringList targets READ targets NOTIFY registryChanged)
    // Goes up whenever the registry (routes, models, providers) changes: bindings on validateTarget()
    // and test() depend on it.
    Q_PROPERTY(int revision READ revision NOTIFY registryChanged)
public:
    static constexpr int kMaxMatchLength = 200;

    enum Roles {
        MatchRole = Qt::UserRole + 1, // the glob a requested name is matched against: "claude-opus-*"
        TargetRole, // what a match is served as: "smart" or "deepseek/deepseek-chat"
        TargetKindRole, // "route" | "model" | "unknown" (the registry serves nothing under that name now)
        ProblemRole, // "" or why the target serves nothing now, in one sentence
        ShadowedByRole, // the 1-based position of an earlier alias with the same pattern, else 0
    };
    Q_ENUM(Roles)

    explicit AliasesModel(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // model reads nothing before it has one.
    explicit AliasesModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] QStringList targets() const { return m_targets; }
    [[nodiscard]] int revision() const { return m_revision; }
    [[nodiscard]] const QList<ModelAlias> &aliases() const { return m_aliases; }

    // "" when `match` may be the pattern of the alias at `row` (-1 for a new one), else why not.
    Q_INVOKABLE [[nodiscard]] QString validateMatch(const QString &match, int row) const;
    // "" when `to` names a route or a model the registry serves, else why not.
    Q_INVOKABLE [[nodiscard]] QString validateTarget(const QString &to) const;
    // "route" | "model" | "unknown" for a target name.
    Q_INVOKABLE [[nodiscard]] QString kindOf(const QString &to) const;
    // Creates (row -1: appended, the last to be tried) or replaces the alias at `row`.
    // "" when saved and applied, else the error; nothing is written then.
    Q_INVOKABLE QString saveAlias(int row, const QString &match, const QString &to);
    // Moves the alias at `from` to `to` (the first match wins). "" when done, else the error.
    Q_INVOKABLE QString move(int from, int to);
    Q_INVOKABLE bool remove(int row);
    // What a requested model name resolves to, as the gateway would serve it now:
    // {name, matched (bool), row (0-based, -1), match, served, kind, detail, ok (bool)}.
    // Empty for an empty name.
    Q_INVOKABLE [[nodiscard]] QVariantMap test(const QString &name) const;

Q_SIGNALS:
    void backendChanged();
    void countChanged();
    void registryChanged();

private:
    void reload();
    void reloadTargets();
    [[nodiscard]] QString write(const QList<ModelAlias> &aliases);
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    QList<ModelAlias> m_aliases;
    QStringList m_targets;
    int m_revision = 0;
};

} // namespace gh::ui
