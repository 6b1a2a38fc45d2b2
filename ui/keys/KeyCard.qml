pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// One Gatehouse key: its name and state, the models it may use, and its day / week / month limits
// with what was spent against each. Limit changes go to the running gateway at once.
Card {
    id: card

    required property KeysModel keys
    required property int keyId
    required property string name
    required property string allowModels
    required property bool paused
    required property bool revoked
    required property string secretHint
    required property real createdAt
    required property real dayLimit
    required property real weekLimit
    required property real monthLimit
    required property real totalLimit
    required property real daySpent
    required property real weekSpent
    required property real monthSpent
    required property real totalSpent
    required property real dayUsage
    required property real weekUsage
    required property real monthUsage
    required property real totalUsage
    required property bool allowUnpriced
    required property bool builtIn   // Compare's own key: limits only, no edit, connect or revoke
    required property string refusal   // the gateway's message when the latest request was refused for the budget
    required property string onShortBudget
    required property int minOutputTokens
    required property int overshoots
    required property real overshootUsd
    required property string secretScan // "off", "warn", "redact", "block"
    required property string requirePolicy // "zdr, no training, region eu"; "" for none
    required property string traffic // where the key's traffic may go, and where not (why)
    required property var requirePolicyMap // zdr, noTraining, maxRetentionDays (-1: any), regions
    required property bool teamSpend // a team store: the amounts are the whole team's, not this machine's

    signal connectRequested(int keyId, string name)
    signal editRequested(int keyId, string name, string allowModels, bool allowUnpriced)
    signal revokeRequested(int keyId, string name)
    signal forgetRequested(int keyId, string name)
    signal limitFailed(string message)

    // The highest use of any limit (-1: no limit), and what the card says about the key.
    readonly property real worstUsage: Math.max(card.dayUsage, card.weekUsage, card.monthUsage, card.totalUsage)
    // "revoked", "paused", "exhausted" (a limit is used up), "refusing" (what is left is less than a
    // request may cost: the latest one was refused), "nearly" (90% of a limit or more), "active".
    readonly property string keyState: card.revoked ? "revoked" : card.paused ? "paused"
        : card.worstUsage >= 1 ? "exhausted" : card.refusal.length > 0 ? "refusing"
        : card.worstUsage >= 0.9 ? "nearly" : "active"

    readonly property list<string> modelPatterns: card.allowModels.split(",").map(s => s.trim()).filter(s => s.length > 0)

    function applyBudgetPolicy(policy: string, minOutput: int) {
        if (!card.keys.setBudgetPolicy(card.keyId, policy, minOutput))
            card.limitFailed(qsTr("Could not change what %1 does with requests that do not fit: %2").arg(card.name).arg(card.keys.lastError));
    }

    function applySecretScan(mode: string) {
        if (!card.keys.setSecretScan(card.keyId, mode))
            card.limitFailed(qsTr("Could not change secret scanning of %1: %2").arg(card.name).arg(card.keys.lastError));
    }

    function applyRequirePolicy(zdr: bool, noTraining: bool, regions: string) {
        if (!card.keys.setRequirePolicy(card.keyId, zdr, noTraining, card.requirePolicyMap.maxRetentionDays ?? -1, regions))
            card.limitFailed(qsTr("Could not change the data policy of %1: %2").arg(card.name).arg(card.keys.lastError));
    }

    function applyLimit(period: string, usd: real) {
        if (!card.keys.setLimit(card.keyId, period, usd))
            card.limitFailed(qsTr("Could not change the %1 limit of %2").arg(period).arg(card.name));
    }

    objectName: "keyCard-" + card.name
    spacing: Theme.space4
    opacity: card.revoked ? 0.7 : 1

    RowLayout {
        Layout.fillWidth: true
        spacing: Theme.space3

        Rectangle {
            implicitWidth: 36
            implicitHeight: 36
            radius: 18
            color: card.revoked ? Theme.surfaceAlt : card.paused ? Theme.warningSoft : Theme.accentSoft
            Icon {
                anchors.centerIn: parent
                iconName: "key"
                size: 18
                color: card.revoked ? Theme.textFaint : card.paused ? Theme.warning : Theme.accent
            }
        }

        ColumnLayout {
            Layout.fillWidth: true
            spacing: 2

            RowLayout {
                spacing: Theme.space2
                Label {
                    text: card.name
                    font.pixelSize: Theme.fontTitle
                    font.weight: Font.DemiBold
                    color: Theme.text
                    elide: Text.ElideRight
                    Layout.maximumWidth: 360
                }
                StatusChip {
                    objectName: "keyState"
                    text: ({
                        revoked: qsTr("Revoked"),
                        paused: qsTr("Paused"),
                        exhausted: qsTr("Limit reached"),
                        refusing: qsTr("Too little left"),
                        nearly: qsTr("Nearly used up"),
                        active: qsTr("Active")
                    })[card.keyState]
                    tone: card.keyState === "revoked" || card.keyState === "exhausted" || card.keyState === "refusing" ? Theme.danger
                        : card.keyState === "paused" || card.keyState === "nearly" ? Theme.warning : Theme.ok
                }
            }
            Caption {
                Layout.fillWidth: true
                visible: card.builtIn
                wrapMode: Text.Wrap
                text: qsTr("Gatehouse's own key for the Compare page. Its limits cap what Compare may spend.")
            }
            Caption {
                Layout.fillWidth: true
                visible: !card.builtIn
                // The day is enough here (the whole line fits beside the actions at 920 px); a
                // narrower card wraps it rather than cutting the spend off.
                wrapMode: Text.Wrap
                maximumLineCount: 2
                elide: Text.ElideRight
                text: (card.teamSpend ? qsTr("%1  ·  created %2  ·  %3 spent in total by the team%4")
                                      : qsTr("%1  ·  created %2  ·  %3 spent in total%4"))
                    .arg(card.secretHint)
                    .arg(Format.dateTime(card.createdAt).slice(0, 10))
                    .arg(Money.usd(card.totalSpent))
                    .arg(card.totalLimit >= 0 ? qsTr(" of %1").arg(Money.usd(card.totalLimit)) : "")
            }
        }

        AppButton {
            visible: !card.revoked && !card.builtIn
            text: qsTr("Connect a tool")
            icon.source: Theme.icon("plug")
            onClicked: card.connectRequested(card.keyId, card.name)
        }
        IconButton {
            visible: !card.revoked && !card.builtIn
            iconName: "edit"
            tip: qsTr("Edit: name, allowed models, unpriced models")
            onClicked: card.editRequested(card.keyId, card.name, card.allowModels, card.allowUnpriced)
        }
        IconButton {
            visible: !card.revoked
            iconName: card.paused ? "play" : "pause"
            tip: card.paused ? qsTr("Resume: accept requests with this key again") : qsTr("Pause: refuse requests with this key for now")
            onClicked: card.keys.setPaused(card.keyId, !card.paused)
        }
        IconButton {
            visible: !card.revoked && !card.builtIn
            iconName: "ban"
            tip: qsTr("Revoke this key for good")
            icon.color: Theme.danger
            onClicked: card.revokeRequested(card.keyId, card.name)
        }
        IconButton {
            visible: !card.builtIn
            objectName: "forgetKeyButton"
            iconName: "trash"
            tip: qsTr("Delete everything about this key")
            icon.color: Theme.danger
            onClicked: card.forgetRequested(card.keyId, card.name)
        }
    }

    // Why requests are refused while no limit shows 100%: the remaining budget is smaller than
    // what a request may cost (its worst case is reserved before it is forwarded).
    Rectangle {
        Layout.fillWidth: true
        visible: card.keyState === "refusing" || card.keyState === "exhausted"
        implicitHeight: refusalText.implicitHeight + 2 * Theme.space2
        radius: Theme.radiusSmall
        color: Theme.dangerSoft
        Label {
            id: refusalText
            anchors.fill: parent
            anchors.margins: Theme.space2
            anchors.leftMargin: Theme.space3
            wrapMode: Text.Wrap
            font.pixelSize: Theme.fontSmall
            color: Theme.danger
            text: card.keyState === "exhausted"
                  ? qsTr("A limit is used up: requests with this key are refused until the period ends or the limit is raised.")
                  : qsTr("Too little is left for typical requests. %1").arg(card.refusal)
        }
    }

    // Allowed models
    Flow {
        Layout.fillWidth: true
        spacing: Theme.space2

        Caption {
            height: 22
            verticalAlignment: Text.AlignVCenter
            text: qsTr("Models:")
        }
        Repeater {
            model: card.modelPatterns.length > 0 ? card.modelPatterns : [qsTr("all models")]
            delegate: Rectangle {
                id: modelChip
                required property string modelData
                implicitWidth: modelLabel.implicitWidth + 2 * Theme.space2
                implicitHeight: 22
                radius: 4
                color: Theme.surfaceAlt
                border.color: Theme.border
                Label {
                    id: modelLabel
                    anchors.centerIn: parent
                    text: modelChip.modelData
                    font.family: card.modelPatterns.length > 0 ? Theme.monoFamily : Theme.fontFamily
                    font.pixelSize: Theme.fontSmall
                    color: Theme.textMuted
                }
            }
        }
    }

    Rectangle {
        Layout.fillWidth: true
        implicitHeight: 1
        color: Theme.border
    }

    // On a team store the bars count every instance's spend (what the budget leases are taken
    // against), read from the team store every few seconds; the caps are the team's caps.
    Caption {
        objectName: "teamSpendNote"
        Layout.fillWidth: true
        visible: card.teamSpend
        wrapMode: Text.Wrap
        text: qsTr("Spend across the whole team (every instance), as the shared budget counts it.")
    }
    LimitRow {
        Layout.fillWidth: true
        label: qsTr("Day")
        spent: card.daySpent
        limit: card.dayLimit
        usage: card.dayUsage
        editable: !card.revoked
        onLimitChosen: usd => card.applyLimit("day", usd)
    }
    LimitRow {
        Layout.fillWidth: true
        label: qsTr("Week")
        spent: card.weekSpent
        limit: card.weekLimit
        usage: card.weekUsage
        editable: !card.revoked
        onLimitChosen: usd => card.applyLimit("week", usd)
    }
    LimitRow {
        Layout.fillWidth: true
        label: qsTr("Month")
        spent: card.monthSpent
        limit: card.monthLimit
        usage: card.monthUsage
        editable: !card.revoked
        onLimitChosen: usd => card.applyLimit("month", usd)
    }

    // What a request whose worst case does not fit what remains gets. A Flow: at the window's
    // minimum width the overshoot note wraps below instead of pushing the card's controls out.
    Flow {
        id: policy
        Layout.fillWidth: true
        spacing: Theme.space2

        RowLayout {
            id: policyRow
            spacing: Theme.space2

            Caption {
                text: qsTr("Too large for what remains:")
            }
            Segmented {
                accessibleName: qsTr("When a request does not fit the budget")
                enabled: !card.revoked
                options: [
                    { value: "clamp", label: qsTr("Lower max_tokens") },
                    { value: "refuse", label: qsTr("Refuse") }
                ]
                current: card.onShortBudget
                onCurrentChanged: if (current !== card.onShortBudget) card.applyBudgetPolicy(current, card.minOutputTokens)
            }
            Caption {
                visible: card.onShortBudget === "clamp"
                text: qsTr("down to at least")
            }
            AppTextField {
                id: minOutputField
                visible: card.onShortBudget === "clamp"
                enabled: !card.revoked
                implicitWidth: 80
                text: String(card.minOutputTokens)
                validator: IntValidator { bottom: 1; top: 1000000 }
                Accessible.name: qsTr("Smallest output limit a clamp may leave, in tokens")
                onEditingFinished: {
                    const value = parseInt(minOutputField.text);
                    if (value !== card.minOutputTokens)
                        card.applyBudgetPolicy(card.onShortBudget, value);
                }
            }
            Caption {
                visible: card.onShortBudget === "clamp"
                text: qsTr("tokens")
            }
        }
        Caption {
            // Right-aligned when it fits on the policy's line, else on a line of its own.
            readonly property bool sameLine: policyRow.width + policy.spacing + overshoot.implicitWidth <= policy.width
            id: overshoot
            width: overshoot.sameLine ? policy.width - policyRow.width - policy.spacing : policy.width
            height: overshoot.sameLine ? policyRow.height : overshoot.implicitHeight
            horizontalAlignment: overshoot.sameLine ? Text.AlignRight : Text.AlignLeft
            verticalAlignment: Text.AlignVCenter
            wrapMode: Text.Wrap
            // The reservation is an upper bound of what a provider bills: this is meant to stay 0.
            text: card.overshoots > 0
                  ? qsTr("%n request(s) cost more than reserved (+%1)", "", card.overshoots).arg(Format.usd(card.overshootUsd))
                  : qsTr("No request cost more than reserved")
            color: card.overshoots > 0 ? Theme.warning : Theme.textMuted
        }
    }

    // What a secret (an API key, a private key, a card number...) in this key's prompts does.
    ColumnLayout {
        Layout.fillWidth: true
        spacing: Theme.space2
        visible: !card.builtIn

        RowLayout {
            spacing: Theme.space2
            Caption {
                text: qsTr("Secrets in prompts:")
            }
            Segmented {
                objectName: "secretScan-" + card.name
                accessibleName: qsTr("What a secret in this key's prompts does")
                enabled: !card.revoked
                options: [
                    { value: "off", label: qsTr("Off") },
                    { value: "warn", label: qsTr("Log") },
                    { value: "redact", label: qsTr("Redact") },
                    { value: "block", label: qsTr("Block") }
                ]
                current: card.secretScan
                onCurrentChanged: if (current !== card.secretScan) card.applySecretScan(current)
            }
        }
        Caption {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: card.secretScan === "redact" ? Theme.warning : Theme.textMuted
            text: card.secretScan === "off" ? qsTr("Prompts are not scanned.")
                : card.secretScan === "warn" ? qsTr("Prompts are sent as they are; the request log records the rule and position of each secret, never the secret.")
                : card.secretScan === "redact" ? qsTr("Each secret is replaced by [REDACTED:rule#n] before the prompt leaves. This changes the prompt: when a secret sits inside a cached prefix, the provider's prompt cache misses from there on, and those tokens are billed at the full input price.")
                : qsTr("A prompt with a secret is refused (the tool gets an error naming the rule) and never leaves this machine.")
        }
    }

    // Where this key's traffic may go: the data policy its targets must meet (config
    // "require_policy"), and the providers that meet it. Routing skips the others; a request naming
    // one of their models is refused, naming the rule.
    ColumnLayout {
        Layout.fillWidth: true
        spacing: Theme.space2
        visible: !card.builtIn

        Flow {
            Layout.fillWidth: true
            spacing: Theme.space3
            Caption {
                height: 24
                verticalAlignment: Text.AlignVCenter
                text: qsTr("Data policy:")
            }
            AppSwitch {
                objectName: "requireZdr-" + card.name
                text: qsTr("ZDR only")
                enabled: !card.revoked
                checked: card.requirePolicyMap.zdr === true
                onToggled: card.applyRequirePolicy(checked, card.requirePolicyMap.noTraining === true, card.requirePolicyMap.regions ?? "")
            }
            AppSwitch {
                objectName: "requireNoTraining-" + card.name
                text: qsTr("No training")
                enabled: !card.revoked
                checked: card.requirePolicyMap.noTraining === true
                onToggled: card.applyRequirePolicy(card.requirePolicyMap.zdr === true, checked, card.requirePolicyMap.regions ?? "")
            }
            AppTextField {
                objectName: "requireRegions-" + card.name
                width: 150
                enabled: !card.revoked
                placeholderText: qsTr("Regions, e.g. eu")
                text: card.requirePolicyMap.regions ?? ""
                Accessible.name: qsTr("Regions this key's prompts may go to")
                onEditingFinished: if (text.trim() !== (card.requirePolicyMap.regions ?? ""))
                                       card.applyRequirePolicy(card.requirePolicyMap.zdr === true, card.requirePolicyMap.noTraining === true, text.trim())
            }
        }
        Caption {
            objectName: "keyTraffic-" + card.name
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: card.requirePolicy.length > 0 && card.traffic.startsWith(qsTr("No enabled provider")) ? Theme.warning : Theme.textMuted
            text: (card.requirePolicy.length > 0 ? qsTr("Requires %1. ").arg(card.requirePolicy) : "") + card.traffic
        }
    }
}
