<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr" sourcelanguage="en">
<context>
    <name>AddContactDialog</name>
    <message>
        <source>Add a contact</source>
        <translation>Ajouter un contact</translation>
    </message>
    <message>
        <source>Paste the address your contact sent you. It starts with sourdine://</source>
        <translation>Collez l’adresse que votre contact vous a envoyée. Elle commence par sourdine://</translation>
    </message>
    <message>
        <source>Address or invitation link</source>
        <translation>Adresse ou lien d’invitation</translation>
    </message>
    <message>
        <source>Paste your contact&apos;s address here. It starts with sourdine://</source>
        <translation>Collez ici l’adresse de votre contact. Elle commence par sourdine://</translation>
    </message>
    <message>
        <source>Name (optional)</source>
        <translation>Nom (facultatif)</translation>
    </message>
    <message>
        <source>The name you want to see for this contact. Filled in from the link when it has one.</source>
        <translation>Le nom sous lequel vous voulez voir ce contact. Rempli d’après le lien s’il en contient un.</translation>
    </message>
    <message>
        <source>&amp;Address or invitation link:</source>
        <translation>&amp;Adresse ou lien d’invitation&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Name (optional):</source>
        <translation>&amp;Nom (facultatif)&#xa0;:</translation>
    </message>
    <message>
        <source>A&amp;dd contact</source>
        <translation>A&amp;jouter le contact</translation>
    </message>
    <message>
        <source>Add contact</source>
        <translation>Ajouter le contact</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <source>Please paste your contact&apos;s address first.</source>
        <translation>Collez d’abord l’adresse de votre contact.</translation>
    </message>
    <message>
        <source>This is not a Sourdine address. An address starts with sourdine:// and is quite long. Please copy it again, completely.</source>
        <translation>Ce n’est pas une adresse Sourdine. Une adresse commence par sourdine:// et elle est assez longue. Copiez-la à nouveau, en entier.</translation>
    </message>
    <message>
        <source>This is your own address. Paste the address of the person you want to add.</source>
        <translation>C’est votre propre adresse. Collez l’adresse de la personne que vous voulez ajouter.</translation>
    </message>
    <message>
        <source>A name has 1 to %1 characters that can be shown. Please change it.</source>
        <translation>Un nom compte de 1 à %1 caractères affichables. Modifiez-le.</translation>
    </message>
</context>
<context>
    <name>AddressPanel</name>
    <message>
        <source>Your address</source>
        <translation>Votre adresse</translation>
    </message>
    <message>
        <source>Your address with your name. Select it or press Copy to share it.</source>
        <translation>Votre adresse, avec votre nom. Sélectionnez-la ou appuyez sur Copier pour la partager.</translation>
    </message>
    <message>
        <source>Your &amp;address:</source>
        <translation>Votre &amp;adresse&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>&amp;Copier</translation>
    </message>
    <message>
        <source>Copy your address</source>
        <translation>Copier votre adresse</translation>
    </message>
    <message>
        <source>Puts your address on the clipboard, so you can paste it in an e-mail or a chat.</source>
        <translation>Place votre adresse dans le presse-papiers, pour la coller dans un e-mail ou une discussion.</translation>
    </message>
    <message>
        <source>Copy status</source>
        <translation>État de la copie</translation>
    </message>
    <message>
        <source>QR code of your address</source>
        <translation>Code QR de votre adresse</translation>
    </message>
    <message>
        <source>Your contacts can scan this code instead of typing your address.</source>
        <translation>Vos contacts peuvent scanner ce code au lieu de taper votre adresse.</translation>
    </message>
    <message>
        <source>Send your address to your contacts by e-mail or chat, or let them scan the code. It is not secret: it only lets people write to you.</source>
        <translation>Envoyez votre adresse à vos contacts par e-mail ou par messagerie, ou faites-leur scanner le code. Elle n’est pas secrète&#xa0;: elle permet seulement de vous écrire.</translation>
    </message>
    <message>
        <source>Copied. You can now paste it where you want.</source>
        <translation>Copiée. Vous pouvez maintenant la coller où vous voulez.</translation>
    </message>
</context>
<context>
    <name>Bridge</name>
    <message>
        <source>Message not sent</source>
        <translation>Message non envoyé</translation>
    </message>
    <message>
        <source>Contact not added</source>
        <translation>Contact non ajouté</translation>
    </message>
    <message>
        <source>Contact not renamed</source>
        <translation>Contact non renommé</translation>
    </message>
    <message>
        <source>Verification not saved</source>
        <translation>Vérification non enregistrée</translation>
    </message>
    <message>
        <source>New key not accepted</source>
        <translation>Nouvelle clé non acceptée</translation>
    </message>
    <message>
        <source>New key not rejected</source>
        <translation>Nouvelle clé non refusée</translation>
    </message>
    <message>
        <source>Conversation not marked as read</source>
        <translation>Conversation non marquée comme lue</translation>
    </message>
    <message>
        <source>Draft not saved</source>
        <translation>Brouillon non enregistré</translation>
    </message>
    <message>
        <source>Settings not saved</source>
        <translation>Réglages non enregistrés</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <source>Message</source>
        <translation>Message</translation>
    </message>
    <message>
        <source>Type your message. Enter sends it; Shift+Enter starts a new line.</source>
        <translation>Tapez votre message. Entrée l’envoie&#x202f;; Maj+Entrée passe à la ligne.</translation>
    </message>
    <message>
        <source>Write a message…</source>
        <translation>Écrire un message…</translation>
    </message>
    <message>
        <source>&amp;Send</source>
        <translation>&amp;Envoyer</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Envoyer</translation>
    </message>
    <message>
        <source>Send the message you typed.</source>
        <translation>Envoyer le message que vous avez tapé.</translation>
    </message>
</context>
<context>
    <name>ConnectionStatus</name>
    <message>
        <source>Connection status</source>
        <translation>État de la connexion</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Connecté</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <source>Offline — messages will be sent when the connection is back</source>
        <translation>Hors ligne — les messages partiront au retour de la connexion</translation>
    </message>
</context>
<context>
    <name>ContactListModel</name>
    <message>
        <source>%1, safety number changed</source>
        <translation>%1, numéro de sécurité modifié</translation>
    </message>
    <message>
        <source>%1, verified</source>
        <translation>%1, vérifié</translation>
    </message>
    <message>
        <source>%1, not verified</source>
        <translation>%1, non vérifié</translation>
    </message>
</context>
<context>
    <name>ConversationHeader</name>
    <message>
        <source>Safety &amp;number</source>
        <translation>Numéro de &amp;sécurité</translation>
    </message>
    <message>
        <source>Safety number</source>
        <translation>Numéro de sécurité</translation>
    </message>
    <message>
        <source>Compare your safety number with this contact to make sure nobody listens in.</source>
        <translation>Comparez votre numéro de sécurité avec ce contact pour vous assurer que personne n’écoute.</translation>
    </message>
    <message>
        <source>&amp;Review</source>
        <translation>E&amp;xaminer</translation>
    </message>
    <message>
        <source>Review the new security key</source>
        <translation>Examiner la nouvelle clé de sécurité</translation>
    </message>
    <message>
        <source>Conversation with %1</source>
        <translation>Conversation avec %1</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>Vérifié</translation>
    </message>
    <message>
        <source>Not verified</source>
        <translation>Non vérifié</translation>
    </message>
    <message>
        <source>The security key of %1 changed. Sending is paused until you review it.</source>
        <translation>La clé de sécurité de %1 a changé. L’envoi est suspendu jusqu’à ce que vous l’examiniez.</translation>
    </message>
    <message>
        <source>typing…</source>
        <translation>écrit…</translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <source>Conversations</source>
        <translation>Conversations</translation>
    </message>
    <message>
        <source>Your conversations, most recent first. Use the arrow keys to open one.</source>
        <translation>Vos conversations, les plus récentes en premier. Utilisez les flèches pour en ouvrir une.</translation>
    </message>
    <message>
        <source>&amp;New conversation</source>
        <translation>&amp;Nouvelle conversation</translation>
    </message>
    <message>
        <source>New conversation</source>
        <translation>Nouvelle conversation</translation>
    </message>
    <message>
        <source>Add a contact from their address or invitation link to start a conversation.</source>
        <translation>Ajoutez un contact à partir de son adresse ou de son lien d’invitation pour commencer une conversation.</translation>
    </message>
</context>
<context>
    <name>ConversationListModel</name>
    <message>
        <source>You: %1</source>
        <translation>Vous&#xa0;: %1</translation>
    </message>
    <message>
        <source>%1, no messages yet</source>
        <translation>%1, aucun message pour l’instant</translation>
    </message>
    <message numerus="yes">
        <source>%1, %n unread, last message: %2, %3</source>
        <translation>
            <numerusform>%1, %n non lu, dernier message&#xa0;: %2, %3</numerusform>
            <numerusform>%1, %n non lus, dernier message&#xa0;: %2, %3</numerusform>
        </translation>
    </message>
    <message>
        <source>%1, last message: %2, %3</source>
        <translation>%1, dernier message&#xa0;: %2, %3</translation>
    </message>
    <message>
        <source>Safety number changed: check it before sending.</source>
        <translation>Numéro de sécurité modifié&#xa0;: vérifiez-le avant d’envoyer.</translation>
    </message>
    <message>
        <source>Conversations not updated</source>
        <translation>Conversations non mises à jour</translation>
    </message>
</context>
<context>
    <name>ErrorDialog</name>
    <message>
        <source>Close this message</source>
        <translation>Fermer ce message</translation>
    </message>
    <message>
        <source>%1 - unexpected problem</source>
        <translation>%1 - problème inattendu</translation>
    </message>
    <message>
        <source>Something went wrong inside %1. If it happens again, please restart %1.</source>
        <translation>Un problème est survenu dans %1. S’il se reproduit, redémarrez %1.</translation>
    </message>
</context>
<context>
    <name>Formatting</name>
    <message>
        <source>Today</source>
        <translation>Aujourd’hui</translation>
    </message>
    <message>
        <source>Yesterday</source>
        <translation>Hier</translation>
    </message>
    <message>
        <source>Sending</source>
        <translation>Envoi</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>Envoyé</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>Distribué</translation>
    </message>
    <message>
        <source>Read</source>
        <translation>Lu</translation>
    </message>
    <message>
        <source>Not sent</source>
        <translation>Non envoyé</translation>
    </message>
    <message>
        <source>Received</source>
        <translation>Reçu</translation>
    </message>
    <message>
        <source>Could not be read</source>
        <translation>Illisible</translation>
    </message>
    <message>
        <source>This message could not be read (%1).</source>
        <translation>Ce message n’a pas pu être lu (%1).</translation>
    </message>
    <message>
        <source>This message could not be read.</source>
        <translation>Ce message n’a pas pu être lu.</translation>
    </message>
    <message>
        <source>Not sent — press Enter or click to retry</source>
        <translation>Non envoyé — appuyez sur Entrée ou cliquez pour réessayer</translation>
    </message>
</context>
<context>
    <name>KeyChangeDialog</name>
    <message>
        <source>The security key of %1 changed</source>
        <translation>La clé de sécurité de %1 a changé</translation>
    </message>
    <message>
        <source>The security key of %1 has changed.</source>
        <translation>La clé de sécurité de %1 a changé.</translation>
    </message>
    <message>
        <source>This usually means %1 reinstalled Sourdine or uses a new computer. It can also mean that someone is trying to intercept your messages.</source>
        <translation>En général, cela signifie que %1 a réinstallé Sourdine ou utilise un nouvel ordinateur. Cela peut aussi vouloir dire que quelqu’un essaie d’intercepter vos messages.</translation>
    </message>
    <message>
        <source>Your messages to %1 are held and not sent until you accept the new key. Before you accept it, compare the new safety number below with %1 in person or on a call.</source>
        <translation>Vos messages à %1 sont retenus et ne partiront pas tant que vous n’aurez pas accepté la nouvelle clé. Avant de l’accepter, comparez le nouveau numéro de sécurité ci-dessous avec %1, en personne ou au téléphone.</translation>
    </message>
    <message>
        <source>&amp;Accept the new key</source>
        <translation>&amp;Accepter la nouvelle clé</translation>
    </message>
    <message>
        <source>Accept the new key</source>
        <translation>Accepter la nouvelle clé</translation>
    </message>
    <message>
        <source>Do this once you have compared the new safety number. Sending works again.</source>
        <translation>Faites-le une fois le nouveau numéro de sécurité comparé. L’envoi reprend.</translation>
    </message>
    <message>
        <source>&amp;Keep blocked</source>
        <translation>&amp;Laisser bloqué</translation>
    </message>
    <message>
        <source>Keep blocked</source>
        <translation>Laisser bloqué</translation>
    </message>
    <message>
        <source>Decide later. Nothing is sent to this contact until you decide.</source>
        <translation>Décider plus tard. Rien n’est envoyé à ce contact tant que vous n’avez pas décidé.</translation>
    </message>
    <message>
        <source>&amp;Reject the new key</source>
        <translation>&amp;Refuser la nouvelle clé</translation>
    </message>
    <message>
        <source>Reject the new key</source>
        <translation>Refuser la nouvelle clé</translation>
    </message>
    <message>
        <source>Forget the new key and keep using the old one.</source>
        <translation>Oublier la nouvelle clé et continuer avec l’ancienne.</translation>
    </message>
    <message>
        <source>No key change is waiting for %1 any more.</source>
        <translation>Plus aucun changement de clé n’est en attente pour %1.</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Sourdine</source>
        <translation>Sourdine</translation>
    </message>
    <message>
        <source>Choose a conversation on the left, or add a contact with &quot;New conversation&quot;.</source>
        <translation>Choisissez une conversation à gauche, ou ajoutez un contact avec «&#xa0;Nouvelle conversation&#xa0;».</translation>
    </message>
    <message>
        <source>Off duty</source>
        <translation>Hors service</translation>
    </message>
    <message>
        <source>Off duty: no notifications</source>
        <translation>Hors service&#xa0;: aucune notification</translation>
    </message>
    <message>
        <source>Conversations not loaded</source>
        <translation>Conversations non chargées</translation>
    </message>
    <message>
        <source>&amp;Add contact…</source>
        <translation>&amp;Ajouter un contact…</translation>
    </message>
    <message>
        <source>My &amp;address…</source>
        <translation>Mon a&amp;dresse…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Paramètres…</translation>
    </message>
    <message>
        <source>&amp;Off duty</source>
        <translation>&amp;Hors service</translation>
    </message>
    <message>
        <source>Off duty: no notifications, counters or badges until you switch it off.</source>
        <translation>Hors service&#xa0;: ni notifications, ni compteurs, ni pastilles jusqu’à ce que vous le désactiviez.</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Quitter</translation>
    </message>
    <message>
        <source>&amp;Search messages</source>
        <translation>&amp;Rechercher dans les messages</translation>
    </message>
    <message>
        <source>&amp;Conversation list</source>
        <translation>Liste des &amp;conversations</translation>
    </message>
    <message>
        <source>&amp;Next conversation</source>
        <translation>Conversation &amp;suivante</translation>
    </message>
    <message>
        <source>&amp;Previous conversation</source>
        <translation>Conversation &amp;précédente</translation>
    </message>
    <message>
        <source>Next &amp;pane</source>
        <translation>&amp;Zone suivante</translation>
    </message>
    <message>
        <source>Previous pa&amp;ne</source>
        <translation>Zo&amp;ne précédente</translation>
    </message>
    <message>
        <source>&amp;Sourdine</source>
        <translation>&amp;Sourdine</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Affichage</translation>
    </message>
    <message>
        <source>Conversation not closed</source>
        <translation>Conversation non fermée</translation>
    </message>
    <message>
        <source>Conversation not opened</source>
        <translation>Conversation non ouverte</translation>
    </message>
    <message>
        <source>Message not shown</source>
        <translation>Message non affiché</translation>
    </message>
    <message>
        <source>Message not sent</source>
        <translation>Message non envoyé</translation>
    </message>
    <message>
        <source>You cannot write to %1 until you review their new security key (above).</source>
        <translation>Vous ne pouvez pas écrire à %1 avant d’avoir examiné sa nouvelle clé de sécurité (ci-dessus).</translation>
    </message>
    <message>
        <source>You cannot answer %1 yet: add their address first.</source>
        <translation>Vous ne pouvez pas encore répondre à %1&#xa0;: ajoutez d’abord son adresse.</translation>
    </message>
    <message>
        <source>Sourdine stopped</source>
        <translation>Sourdine s’est arrêté</translation>
    </message>
    <message>
        <source>Sourdine cannot save messages any more, so it stopped sending and receiving. Restart Sourdine. (%1)</source>
        <translation>Sourdine ne peut plus enregistrer les messages et a donc cessé d’envoyer et de recevoir. Redémarrez Sourdine. (%1)</translation>
    </message>
    <message>
        <source>Contact not added</source>
        <translation>Contact non ajouté</translation>
    </message>
</context>
<context>
    <name>MyAddressDialog</name>
    <message>
        <source>My address</source>
        <translation>Mon adresse</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Fermer</translation>
    </message>
</context>
<context>
    <name>NotificationSurface</name>
    <message>
        <source>New message</source>
        <translation>Nouveau message</translation>
    </message>
</context>
<context>
    <name>OnboardingWizard</name>
    <message>
        <source>Set up Sourdine</source>
        <translation>Configurer Sourdine</translation>
    </message>
    <message>
        <source>&amp;Start using Sourdine</source>
        <translation>&amp;Commencer à utiliser Sourdine</translation>
    </message>
    <message>
        <source>Back</source>
        <translation>Retour</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>Suivant</translation>
    </message>
    <message>
        <source>Create my account</source>
        <translation>Créer mon compte</translation>
    </message>
    <message>
        <source>Start using Sourdine</source>
        <translation>Commencer à utiliser Sourdine</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
</context>
<context>
    <name>QrCodeWidget</name>
    <message>
        <source>QR code</source>
        <translation>Code QR</translation>
    </message>
</context>
<context>
    <name>SafetyNumberDialog</name>
    <message>
        <source>Verify %1</source>
        <translation>Vérifier %1</translation>
    </message>
    <message>
        <source>Compare this number with %1, in person or on a call: if you both see the same number, nobody can read your messages in between.</source>
        <translation>Comparez ce numéro avec %1, en personne ou au téléphone&#xa0;: si vous voyez tous deux le même numéro, personne ne peut lire vos messages en chemin.</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Fermer</translation>
    </message>
    <message>
        <source>This is the number for %1&apos;s new key.</source>
        <translation>Voici le numéro de la nouvelle clé de %1.</translation>
    </message>
    <message>
        <source>You have verified %1.</source>
        <translation>Vous avez vérifié %1.</translation>
    </message>
    <message>
        <source>Mark as &amp;not verified</source>
        <translation>Marquer comme &amp;non vérifié</translation>
    </message>
    <message>
        <source>Mark as not verified</source>
        <translation>Marquer comme non vérifié</translation>
    </message>
    <message>
        <source>%1 is not verified yet.</source>
        <translation>%1 n’est pas encore vérifié.</translation>
    </message>
    <message>
        <source>&amp;Mark as verified</source>
        <translation>&amp;Marquer comme vérifié</translation>
    </message>
    <message>
        <source>Mark as verified</source>
        <translation>Marquer comme vérifié</translation>
    </message>
</context>
<context>
    <name>SafetyNumberView</name>
    <message>
        <source>Safety number</source>
        <translation>Numéro de sécurité</translation>
    </message>
    <message>
        <source>QR code of the safety number</source>
        <translation>Code QR du numéro de sécurité</translation>
    </message>
    <message>
        <source>Number your contact sent</source>
        <translation>Numéro envoyé par votre contact</translation>
    </message>
    <message>
        <source>Paste or type the safety number your contact sent you, then press Compare.</source>
        <translation>Collez ou tapez le numéro de sécurité que votre contact vous a envoyé, puis appuyez sur Comparer.</translation>
    </message>
    <message>
        <source>Number your contact &amp;sent (optional):</source>
        <translation>Numéro envoyé par votre &amp;contact (facultatif)&#xa0;:</translation>
    </message>
    <message>
        <source>C&amp;ompare</source>
        <translation>C&amp;omparer</translation>
    </message>
    <message>
        <source>Compare the numbers</source>
        <translation>Comparer les numéros</translation>
    </message>
    <message>
        <source>Paste or type the number your contact sent you first.</source>
        <translation>Collez ou tapez d’abord le numéro que votre contact vous a envoyé.</translation>
    </message>
    <message>
        <source>The numbers match. Nobody is in between: %1 is really who you are writing to.</source>
        <translation>Les numéros correspondent. Personne ne s’interpose&#xa0;: c’est bien à %1 que vous écrivez.</translation>
    </message>
    <message>
        <source>The numbers do not match: a safety number has 60 digits and this one has %1. Check that you copied all of it.</source>
        <translation>Les numéros ne correspondent pas&#xa0;: un numéro de sécurité compte 60 chiffres et celui-ci en a %1. Vérifiez que vous l’avez copié en entier.</translation>
    </message>
    <message>
        <source>The numbers do not match. Do not mark %1 as verified. Ask %1 to check the number again, and share nothing private until they match.</source>
        <translation>Les numéros ne correspondent pas. Ne marquez pas %1 comme vérifié. Demandez à %1 de vérifier à nouveau le numéro, et ne partagez rien de privé tant qu’ils ne correspondent pas.</translation>
    </message>
</context>
<context>
    <name>SearchPanel</name>
    <message>
        <source>Search messages (Ctrl+F)</source>
        <translation>Rechercher dans les messages (Ctrl+F)</translation>
    </message>
    <message>
        <source>Clear the search</source>
        <translation>Effacer la recherche</translation>
    </message>
    <message>
        <source>Search messages</source>
        <translation>Rechercher dans les messages</translation>
    </message>
    <message>
        <source>Type words to find in every conversation. Press Down to go to the results.</source>
        <translation>Tapez les mots à trouver dans toutes les conversations. Appuyez sur Bas pour aller aux résultats.</translation>
    </message>
    <message>
        <source>Search results</source>
        <translation>Résultats de la recherche</translation>
    </message>
    <message>
        <source>Messages that contain the words you typed, newest first. Press Enter to open one.</source>
        <translation>Les messages qui contiennent les mots tapés, les plus récents en premier. Appuyez sur Entrée pour en ouvrir un.</translation>
    </message>
    <message>
        <source>Search failed</source>
        <translation>La recherche a échoué</translation>
    </message>
    <message>
        <source>Type a word to search for.</source>
        <translation>Tapez un mot à rechercher.</translation>
    </message>
    <message>
        <source>No message contains these words.</source>
        <translation>Aucun message ne contient ces mots.</translation>
    </message>
    <message numerus="yes">
        <source>Messages found: %n</source>
        <translation>
            <numerusform>Message trouvé&#xa0;: %n</numerusform>
            <numerusform>Messages trouvés&#xa0;: %n</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SearchResultsModel</name>
    <message>
        <source>You to %1, %2: %3</source>
        <translation>Vous à %1, %2&#xa0;: %3</translation>
    </message>
    <message>
        <source>%1, %2: %3</source>
        <translation>%1, %2&#xa0;: %3</translation>
    </message>
</context>
<context>
    <name>Session</name>
    <message>
        <source>Settings not read</source>
        <translation>Réglages illisibles</translation>
    </message>
    <message>
        <source>Your keys cannot be read</source>
        <translation>Impossible de lire vos clés</translation>
    </message>
    <message>
        <source>This profile&apos;s keys are locked with a passphrase. Type it to open Sourdine.</source>
        <translation>Les clés de ce profil sont protégées par une phrase secrète. Saisissez-la pour ouvrir Sourdine.</translation>
    </message>
    <message>
        <source>Sourdine stays locked</source>
        <translation>Sourdine reste verrouillé</translation>
    </message>
    <message>
        <source>Without the passphrase, Sourdine cannot open this profile.</source>
        <translation>Sans la phrase secrète, Sourdine ne peut pas ouvrir ce profil.</translation>
    </message>
    <message>
        <source>This passphrase does not open your keys. Check it (and Caps Lock) and type it again.</source>
        <translation>Cette phrase secrète n&apos;ouvre pas vos clés. Vérifiez-la (et la touche Verr. Maj), puis saisissez-la de nouveau.</translation>
    </message>
    <message>
        <source>Sourdine cannot open this profile</source>
        <translation>Sourdine ne peut pas ouvrir ce profil</translation>
    </message>
    <message>
        <source>The relay on this computer cannot start</source>
        <translation>Le relais de cet ordinateur ne peut pas démarrer</translation>
    </message>
    <message>
        <source>Sourdine cannot reach this relay. Check its address (and your network), then try again.</source>
        <translation>Sourdine ne parvient pas à joindre ce relais. Vérifiez son adresse (et votre réseau), puis réessayez.</translation>
    </message>
    <message>
        <source>This relay did not let your new account in. If your company gave you an invitation code, check it (or ask for a new one) and try again.</source>
        <translation>Ce relais n&apos;a pas accepté votre nouveau compte. Si votre entreprise vous a donné un code d&apos;invitation, vérifiez-le (ou demandez-en un nouveau) et réessayez.</translation>
    </message>
    <message>
        <source>Unlock Sourdine</source>
        <translation>Déverrouiller Sourdine</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Paramètres</translation>
    </message>
    <message>
        <source>Settings sections</source>
        <translation>Sections des paramètres</translation>
    </message>
    <message>
        <source>Sections</source>
        <translation>Sections</translation>
    </message>
    <message>
        <source>&amp;Account</source>
        <translation>&amp;Compte</translation>
    </message>
    <message>
        <source>&amp;Relay</source>
        <translation>&amp;Relais</translation>
    </message>
    <message>
        <source>&amp;Notifications</source>
        <translation>&amp;Notifications</translation>
    </message>
    <message>
        <source>&amp;Privacy</source>
        <translation>Con&amp;fidentialité</translation>
    </message>
    <message>
        <source>App&amp;earance</source>
        <translation>&amp;Apparence</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Langue</translation>
    </message>
    <message>
        <source>&amp;Data</source>
        <translation>D&amp;onnées</translation>
    </message>
    <message>
        <source>Save the settings</source>
        <translation>Enregistrer les paramètres</translation>
    </message>
    <message>
        <source>Cancel and keep the previous settings</source>
        <translation>Annuler et garder les paramètres précédents</translation>
    </message>
    <message>
        <source>Your name</source>
        <translation>Votre nom</translation>
    </message>
    <message>
        <source>Your address</source>
        <translation>Votre adresse</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>Co&amp;pier</translation>
    </message>
    <message>
        <source>Copy your address</source>
        <translation>Copier votre adresse</translation>
    </message>
    <message>
        <source>Your na&amp;me:</source>
        <translation>Votre no&amp;m&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Your address:</source>
        <translation>Votre a&amp;dresse&#xa0;:</translation>
    </message>
    <message>
        <source>Your contacts see this name. It is part of your address when you share it.</source>
        <translation>Vos contacts voient ce nom. Il fait partie de votre adresse quand vous la partagez.</translation>
    </message>
    <message>
        <source>Give this address to the people you want to talk to.</source>
        <translation>Donnez cette adresse aux personnes avec qui vous voulez parler.</translation>
    </message>
    <message>
        <source>Relay address</source>
        <translation>Adresse du relais</translation>
    </message>
    <message>
        <source>A relay on this computer, started by Sourdine.</source>
        <translation>Un relais sur cet ordinateur, démarré par Sourdine.</translation>
    </message>
    <message>
        <source>Your company&apos;s relay.</source>
        <translation>Le relais de votre entreprise.</translation>
    </message>
    <message>
        <source>Relay mode</source>
        <translation>Type de relais</translation>
    </message>
    <message>
        <source>Relay addre&amp;ss:</source>
        <translation>Adre&amp;sse du relais&#xa0;:</translation>
    </message>
    <message>
        <source>Kind of relay:</source>
        <translation>Type de relais&#xa0;:</translation>
    </message>
    <message>
        <source>Your messages pass through this relay, locked: the relay cannot read them. It is part of your address, so it cannot be changed here.</source>
        <translation>Vos messages passent par ce relais, verrouillés&#xa0;: le relais ne peut pas les lire. Il fait partie de votre adresse et ne peut donc pas être changé ici.</translation>
    </message>
    <message>
        <source>Show a notification for new &amp;messages</source>
        <translation>Afficher une notification pour les nouveaux &amp;messages</translation>
    </message>
    <message>
        <source>Notifications for new messages</source>
        <translation>Notifications des nouveaux messages</translation>
    </message>
    <message>
        <source>Show the message &amp;text in notifications</source>
        <translation>Afficher le &amp;texte des messages dans les notifications</translation>
    </message>
    <message>
        <source>Message text in notifications</source>
        <translation>Texte des messages dans les notifications</translation>
    </message>
    <message>
        <source>When off, a notification only says that a message arrived.</source>
        <translation>Si cette option est désactivée, une notification indique seulement qu’un message est arrivé.</translation>
    </message>
    <message>
        <source>People near your screen can read the message text. Nothing is shown while you are off duty.</source>
        <translation>Les personnes près de votre écran peuvent lire le texte des messages. Rien n’est affiché quand vous êtes hors service.</translation>
    </message>
    <message>
        <source>Send read re&amp;ceipts</source>
        <translation>Envoyer des &amp;accusés de lecture</translation>
    </message>
    <message>
        <source>Send read receipts</source>
        <translation>Envoyer des accusés de lecture</translation>
    </message>
    <message>
        <source>Your contacts see when you have read their messages.</source>
        <translation>Vos contacts voient quand vous avez lu leurs messages.</translation>
    </message>
    <message>
        <source>Send &amp;typing indicators</source>
        <translation>Envoyer l’indicateur de &amp;saisie</translation>
    </message>
    <message>
        <source>Send typing indicators</source>
        <translation>Envoyer l’indicateur de saisie</translation>
    </message>
    <message>
        <source>Your contacts see when you are writing to them.</source>
        <translation>Vos contacts voient quand vous leur écrivez.</translation>
    </message>
    <message>
        <source>Both are off unless you turn them on, and they are never sent while you are off duty.</source>
        <translation>Tous deux sont désactivés sauf si vous les activez, et ils ne sont jamais envoyés quand vous êtes hors service.</translation>
    </message>
    <message>
        <source>&amp;Follow the system</source>
        <translation>&amp;Suivre le système</translation>
    </message>
    <message>
        <source>L&amp;ight</source>
        <translation>&amp;Clair</translation>
    </message>
    <message>
        <source>Dar&amp;k</source>
        <translation>S&amp;ombre</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>Suivre le système</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>Clair</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>Sombre</translation>
    </message>
    <message>
        <source>Choose light or dark colours.</source>
        <translation>Choisissez des couleurs claires ou sombres.</translation>
    </message>
    <message>
        <source>Same as the system</source>
        <translation>Comme le système</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Langue</translation>
    </message>
    <message>
        <source>Lan&amp;guage:</source>
        <translation>Lan&amp;gue&#xa0;:</translation>
    </message>
    <message>
        <source>A new language is used the next time you start Sourdine.</source>
        <translation>Une nouvelle langue s’applique au prochain démarrage de Sourdine.</translation>
    </message>
    <message>
        <source>Your messages are stored encrypted on this computer, in these folders.</source>
        <translation>Vos messages sont enregistrés chiffrés sur cet ordinateur, dans ces dossiers.</translation>
    </message>
    <message>
        <source>Messages folder</source>
        <translation>Dossier des messages</translation>
    </message>
    <message>
        <source>&amp;Messages:</source>
        <translation>&amp;Messages&#xa0;:</translation>
    </message>
    <message>
        <source>Open the messages folder</source>
        <translation>Ouvrir le dossier des messages</translation>
    </message>
    <message>
        <source>Settings folder</source>
        <translation>Dossier des paramètres</translation>
    </message>
    <message>
        <source>&amp;Settings:</source>
        <translation>&amp;Paramètres&#xa0;:</translation>
    </message>
    <message>
        <source>Open the settings folder</source>
        <translation>Ouvrir le dossier des paramètres</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>Ouvrir le dossier</translation>
    </message>
</context>
<context>
    <name>TaskbarBadge</name>
    <message numerus="yes">
        <source>%n unread</source>
        <comment>taskbar badge</comment>
        <translation>
            <numerusform>%n non lu</numerusform>
            <numerusform>%n non lus</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TranscriptModel</name>
    <message>
        <source>Older messages not loaded</source>
        <translation>Messages plus anciens non chargés</translation>
    </message>
    <message>
        <source>Not sent: %1</source>
        <translation>Non envoyé&#xa0;: %1</translation>
    </message>
    <message>
        <source>You</source>
        <translation>Vous</translation>
    </message>
    <message>
        <source>%1, %2: %3</source>
        <translation>%1, %2&#xa0;: %3</translation>
    </message>
</context>
<context>
    <name>TranscriptView</name>
    <message>
        <source>Messages</source>
        <translation>Messages</translation>
    </message>
    <message>
        <source>The messages of this conversation. Up and Down move between messages; Enter on a message that was not sent tries again; Ctrl+C copies a message.</source>
        <translation>Les messages de cette conversation. Haut et Bas passent d’un message à l’autre&#x202f;; Entrée sur un message non envoyé le renvoie&#x202f;; Ctrl+C copie un message.</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>Sourdine menu</source>
        <translation>Menu Sourdine</translation>
    </message>
    <message>
        <source>Open Sourdine</source>
        <translation>Ouvrir Sourdine</translation>
    </message>
    <message>
        <source>Off duty</source>
        <translation>Hors service</translation>
    </message>
    <message>
        <source>Hide unread counts and notifications until you switch it off</source>
        <translation>Masquer les compteurs de non-lus et les notifications jusqu’à ce que vous le désactiviez</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quitter</translation>
    </message>
    <message>
        <source>Sourdine — off duty</source>
        <translation>Sourdine — hors service</translation>
    </message>
    <message numerus="yes">
        <source>Sourdine — %n unread</source>
        <comment>tray tooltip</comment>
        <translation>
            <numerusform>Sourdine — %n non lu</numerusform>
            <numerusform>Sourdine — %n non lus</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>WindowTitle</name>
    <message numerus="yes">
        <source>(%n) Sourdine</source>
        <comment>window title with the unread count</comment>
        <translation>
            <numerusform>(%n) Sourdine</numerusform>
            <numerusform>(%n) Sourdine</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>_AddressPage</name>
    <message>
        <source>Your address</source>
        <translation>Votre adresse</translation>
    </message>
    <message>
        <source>Your account is ready. Give this address to the people you want to talk to.</source>
        <translation>Votre compte est prêt. Donnez cette adresse aux personnes avec qui vous voulez parler.</translation>
    </message>
</context>
<context>
    <name>_RelayPage</name>
    <message>
        <source>Where your messages go</source>
        <translation>Par où passent vos messages</translation>
    </message>
    <message>
        <source>Messages travel through a relay. The relay only passes on locked messages: it cannot read them.</source>
        <translation>Les messages transitent par un relais. Le relais ne fait que transmettre des messages verrouillés&#xa0;: il ne peut pas les lire.</translation>
    </message>
    <message>
        <source>&amp;Create my account</source>
        <translation>&amp;Créer mon compte</translation>
    </message>
    <message>
        <source>A relay on &amp;this computer</source>
        <translation>Un relais sur ce&amp;t ordinateur</translation>
    </message>
    <message>
        <source>A relay on this computer</source>
        <translation>Un relais sur cet ordinateur</translation>
    </message>
    <message>
        <source>Recommended to try Sourdine. Sourdine starts the relay itself.</source>
        <translation>Recommandé pour essayer Sourdine. Sourdine démarre le relais lui-même.</translation>
    </message>
    <message>
        <source>My compan&amp;y&apos;s relay</source>
        <translation>Le relais de mon &amp;entreprise</translation>
    </message>
    <message>
        <source>My company&apos;s relay</source>
        <translation>Le relais de mon entreprise</translation>
    </message>
    <message>
        <source>Choose this if your company gave you a relay address.</source>
        <translation>Choisissez cette option si votre entreprise vous a donné une adresse de relais.</translation>
    </message>
    <message>
        <source>Good to try Sourdine with someone on this computer. Sourdine starts it for you.</source>
        <translation>Pratique pour essayer Sourdine avec quelqu’un sur cet ordinateur. Sourdine le démarre pour vous.</translation>
    </message>
    <message>
        <source>Relay address</source>
        <translation>Adresse du relais</translation>
    </message>
    <message>
        <source>The address your company gave you. It starts with wss:// or ws://.</source>
        <translation>L’adresse donnée par votre entreprise. Elle commence par wss:// ou ws://.</translation>
    </message>
    <message>
        <source>Invitation code (optional)</source>
        <translation>Code d’invitation (facultatif)</translation>
    </message>
    <message>
        <source>Only if your company gave you one, for example ABCD-EFGH-...</source>
        <translation>Seulement si votre entreprise vous en a donné un, par exemple ABCD-EFGH-...</translation>
    </message>
    <message>
        <source>Relay &amp;address:</source>
        <translation>&amp;Adresse du relais&#xa0;:</translation>
    </message>
    <message>
        <source>&amp;Invitation code (optional):</source>
        <translation>Code d’&amp;invitation (facultatif)&#xa0;:</translation>
    </message>
    <message>
        <source>Creating your account</source>
        <translation>Création de votre compte</translation>
    </message>
    <message>
        <source>Creating your account, please wait...</source>
        <translation>Création de votre compte, veuillez patienter...</translation>
    </message>
    <message>
        <source>Type the relay address your company gave you, for example wss://chat.example.com.</source>
        <translation>Tapez l’adresse du relais donnée par votre entreprise, par exemple wss://chat.example.com.</translation>
    </message>
    <message>
        <source>This is not a relay address. It starts with wss:// (or ws://) followed by a computer name, for example wss://chat.example.com.</source>
        <translation>Ce n’est pas une adresse de relais. Elle commence par wss:// (ou ws://) suivi d’un nom d’ordinateur, par exemple wss://chat.example.com.</translation>
    </message>
    <message>
        <source>An invitation code has only letters, digits and dashes. Please check it.</source>
        <translation>Un code d’invitation ne contient que des lettres, des chiffres et des tirets. Vérifiez-le.</translation>
    </message>
</context>
<context>
    <name>_WelcomePage</name>
    <message>
        <source>Welcome to Sourdine</source>
        <translation>Bienvenue dans Sourdine</translation>
    </message>
    <message>
        <source>Sourdine lets you write to your colleagues privately. Only you and the people you write to can read your messages.</source>
        <translation>Sourdine vous permet d’écrire à vos collègues en privé. Seuls vous et les personnes à qui vous écrivez pouvez lire vos messages.</translation>
    </message>
    <message>
        <source>Your name</source>
        <translation>Votre nom</translation>
    </message>
    <message>
        <source>The name your contacts see, for example Marie Dupont.</source>
        <translation>Le nom que voient vos contacts, par exemple Marie Dupont.</translation>
    </message>
    <message>
        <source>For example: Marie Dupont</source>
        <translation>Par exemple&#xa0;: Marie Dupont</translation>
    </message>
    <message>
        <source>&amp;Your name:</source>
        <translation>Votre &amp;nom&#xa0;:</translation>
    </message>
    <message>
        <source>Your contacts will see this name. You can use your first name.</source>
        <translation>Vos contacts verront ce nom. Vous pouvez utiliser votre prénom.</translation>
    </message>
    <message>
        <source>Please type your name.</source>
        <translation>Tapez votre nom.</translation>
    </message>
    <message>
        <source>Your name is too long: use at most %1 characters.</source>
        <translation>Votre nom est trop long&#xa0;: %1 caractères au maximum.</translation>
    </message>
    <message>
        <source>Your name has characters that cannot be shown. Please retype it.</source>
        <translation>Votre nom contient des caractères qui ne peuvent pas être affichés. Retapez-le.</translation>
    </message>
</context>
</TS>
