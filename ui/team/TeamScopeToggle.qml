pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts
import Gatehouse

// "Whole team / This machine" on a team store: which instances' requests the Dashboard and Activity
// show (one choice for both pages, kept across starts). Hidden on this machine's own SQLite store.
// A single other instance, picked from Activity's instance column, shows as a removable chip.
RowLayout {
    id: toggle

    required property Backend backend
    readonly property TeamState team: toggle.backend ? toggle.backend.team : null
    readonly property bool otherInstance: toggle.team !== null && toggle.team.scope !== "team"
                                          && toggle.team.scope !== "machine"

    visible: toggle.team !== null && toggle.team.isTeam
    spacing: Theme.space2

    Segmented {
        id: segmented
        objectName: "teamScope"
        accessibleName: qsTr("Show requests of")
        options: [
            { value: "team", label: qsTr("Whole team") },
            { value: "machine", label: qsTr("This machine") }
        ]
        current: toggle.team ? toggle.team.scope : "team"
        onCurrentChanged: {
            if (toggle.team && current !== toggle.team.scope)
                toggle.team.scope = current;
        }
        // A click replaces the binding above: the other page's choice still shows here.
        Connections {
            target: toggle.team
            function onScopeChanged() {
                segmented.current = toggle.team.scope;
            }
        }
    }
    AppButton {
        objectName: "teamScopeInstance"
        visible: toggle.otherInstance
        text: toggle.team ? toggle.team.scopeLabel : ""
        icon.source: Theme.icon("close")
        Accessible.description: qsTr("Show the whole team again")
        ToolTip.visible: hovered
        ToolTip.delay: 500
        ToolTip.text: qsTr("Only this instance's requests are shown. Click to show the whole team.")
        onClicked: toggle.team.scope = "team"
    }
}
