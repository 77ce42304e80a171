-- The Flask service's database as `sqlite3 app.db .dump` shows it (SPEC-practice §3):
-- Flask-SQLAlchemy's create_all (no server defaults: Flask sets them in Python), the seven
-- practice tables and `user`, no Django table. Passwords: see README.md.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE assistant_scenarios (
	id INTEGER NOT NULL,
	scenario_text TEXT NOT NULL,
	additional_instructions TEXT,
	enable BOOLEAN,
	role TEXT,
	openid TEXT,
	communication_preferences TEXT,
	PRIMARY KEY (id)
);
INSERT INTO assistant_scenarios VALUES(1,'You are Margaret Hill, 67, a retired teacher with chest pain since yesterday.','Stay anxious but polite.',1,'Elderly Woman','asst_3fQ9kLx2PzA7','Prefers plain words, no jargon.');
INSERT INTO assistant_scenarios VALUES(2,'You are Tom, 8, brought in by his mother with a cough.','',0,'Boy','asst_Bz81mQnR0cYw',NULL);
INSERT INTO assistant_scenarios VALUES(4,'你是王丽，35岁，头痛三天。',NULL,1,'Adult Woman','',NULL);
CREATE TABLE user (
	id INTEGER NOT NULL,
	username VARCHAR(80) NOT NULL,
	email VARCHAR(120) NOT NULL,
	password VARCHAR(255) NOT NULL,
	role VARCHAR(20),
	PRIMARY KEY (id),
	UNIQUE (email)
);
INSERT INTO user VALUES(1,'drlee','Lee@Hospital.example','$pbkdf2-sha256$29000$E4Jh/gCbcQ7EG9KIEH4B/w$j76zroHDmbR.QLJHoRgWyrukaAjVVyiuqqLMGpa1bas','admin');
INSERT INTO user VALUES(2,'sam','sam.green@uni.example','$pbkdf2-sha256$29000$MDEyMzQ1Njc4OWFiY2RlZg$G/O7bynZBig0xpI9OJ2.zH5iXh/vIAuDcj9JVCTUa3k','student');
INSERT INTO user VALUES(3,'sam','sam.white@uni.example','$pbkdf2-sha256$29000$c2FsdHNhbHRzYWx0c2FsdA$UTYQL/GaO/GgAl11wA7grI/rmDl8hD0U.TFQR6NZ1/U','student');
INSERT INTO user VALUES(5,'王芳','wang.fang@uni.example','$pbkdf2-sha256$12000$qrvM3e7/ABEiM0RVZneImQ$J3rO2WgA02eCVR4w/poy1KMe4YYkST6GKr.L65WrxMA',NULL);
CREATE TABLE categories (
	id INTEGER NOT NULL,
	name VARCHAR(255) NOT NULL,
	total_required_to_pass INTEGER,
	PRIMARY KEY (id)
);
INSERT INTO categories VALUES(1,'Initiating the session',3);
INSERT INTO categories VALUES(2,'Gathering information',NULL);
CREATE TABLE assistant_tags (
	id INTEGER NOT NULL,
	tag TEXT,
	scenario_id INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(scenario_id) REFERENCES assistant_scenarios (id)
);
INSERT INTO assistant_tags VALUES(1,'cardiology',1);
INSERT INTO assistant_tags VALUES(2,'emergency',1);
INSERT INTO assistant_tags VALUES(3,'paediatrics',2);
INSERT INTO assistant_tags VALUES(4,NULL,NULL);
CREATE TABLE rubric_questions (
	id INTEGER NOT NULL,
	question TEXT,
	scenario_id INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(scenario_id) REFERENCES assistant_scenarios (id)
);
INSERT INTO rubric_questions VALUES(1,'Did the student introduce themselves?',1);
INSERT INTO rubric_questions VALUES(2,'Did the student ask about the onset of the pain?',1);
INSERT INTO rubric_questions VALUES(3,'学生是否询问了头痛的部位？',4);
CREATE TABLE subcategories (
	id INTEGER NOT NULL,
	name VARCHAR(255) NOT NULL,
	marking_instructions TEXT,
	category_id INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(category_id) REFERENCES categories (id)
);
INSERT INTO subcategories VALUES(1,'Greets and introduces self','2 if name and role are given; 1 if one of them; 0 otherwise.',1);
INSERT INTO subcategories VALUES(2,'Confirms patient identity',NULL,1);
INSERT INTO subcategories VALUES(3,'Open questions first','2 if the first question about the problem is open.',2);
CREATE TABLE activities (
	id INTEGER NOT NULL,
	pre_brief TEXT,
	character_id INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(character_id) REFERENCES assistant_scenarios (id)
);
INSERT INTO activities VALUES(1,'Take a focused history from Mrs Hill in the emergency department.',1);
INSERT INTO activities VALUES(2,NULL,2);
CREATE TABLE activity_categories (
	activity_id INTEGER NOT NULL,
	category_id INTEGER NOT NULL,
	PRIMARY KEY (activity_id, category_id),
	FOREIGN KEY(activity_id) REFERENCES activities (id),
	FOREIGN KEY(category_id) REFERENCES categories (id)
);
INSERT INTO activity_categories VALUES(1,1);
INSERT INTO activity_categories VALUES(1,2);
INSERT INTO activity_categories VALUES(2,2);
COMMIT;
